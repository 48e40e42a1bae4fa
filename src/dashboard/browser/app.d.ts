// What the Worker's type-check sees of ./app.ts (see ../script.ts).
/** Runs the app page: polls, draws and wires up the forms. */
export declare function dashboardApp(): void;
