// The frame every dashboard page shares. JSX escapes every value it
// renders, so names and params from users are safe wherever they appear.
import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import { html } from "hono/html";
import { SCRIPT_PATH, STYLE_PATH } from "./assets";

export function Layout(props: { title: string; signedIn: boolean; app?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="stylesheet" href={STYLE_PATH} />
        {props.app !== undefined && <script src={SCRIPT_PATH} defer></script>}
      </head>
      <body data-app={props.app}>
        <header class="top">
          <a href="/" class="brand">
            Squall
          </a>
          {props.signedIn && (
            <form method="post" action="/dashboard/sign-out">
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** A whole document: the doctype, then the page. */
export function documentOf(page: JSX.Element) {
  return html`<!doctype html>${page}`;
}

export function SignInPage(props: { error?: string }) {
  return (
    <Layout title="Sign in · Squall" signedIn={false}>
      <section class="sign-in">
        <h1>Sign in</h1>
        <p>
          Use a workspace token: the one <code>npm run dev</code> printed, or a new one from <code>npx squall token create</code>.
        </p>
        <form method="post" action="/dashboard/sign-in">
          <label>
            Token
            <input name="token" type="password" autocomplete="current-password" required autofocus />
          </label>
          <button type="submit">Sign in</button>
          {props.error && (
            <p class="form-message error" role="alert">
              {props.error}
            </p>
          )}
        </form>
      </section>
    </Layout>
  );
}

export function NotFoundPage(props: { message: string }) {
  return (
    <Layout title="Not found · Squall" signedIn={true}>
      <h1>Not found</h1>
      <p>{props.message}</p>
      <p>
        <a href="/">All apps</a>
      </p>
    </Layout>
  );
}
