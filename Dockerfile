# The runner image (DESIGN §2 "Runner"): Node 20 running sdk/dist/runner/main.js,
# which serves the pool's WebSocket on port 8080. wrangler builds it on
# `wrangler deploy` ([[containers]] image = "./Dockerfile"), for linux/amd64.
# Build context: the repo root (see .dockerignore).

# ---- build: compile the sdk package ----
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
# --ignore-scripts: the root `prepare` script builds the sdk, whose sources
# are not copied yet; the build runs explicitly below.
RUN npm ci --workspace sdk --ignore-scripts
COPY sdk/tsconfig.json sdk/
COPY sdk/src sdk/src
RUN npm run build --workspace sdk

# ---- deps: the sdk's production dependencies only ----
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
# Installs at the lockfile's locations: hoisted to node_modules/, except
# where a version conflicts (e.g. ws under sdk/node_modules/).
RUN npm ci --workspace sdk --omit=dev --ignore-scripts

# ---- runtime ----
FROM node:20-slim
ENV NODE_ENV=production
ENV PORT=8080
WORKDIR /app
COPY --from=deps /app ./
COPY --from=build /app/sdk/dist sdk/dist
USER node
EXPOSE 8080
CMD ["node", "sdk/dist/runner/main.js"]
