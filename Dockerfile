# The runner image: Node 20 running the runner (sdk/src/runner), which serves
# the pool's WebSocket on port 8080. wrangler builds it on `wrangler deploy`
# and, in `npm run dev -- --containers`, for local containers
# ([[containers]] image = "./Dockerfile"), for linux/amd64.
#
# It copies the runner bundle that `npm run build` makes (build/runner: two
# self-contained files, see scripts/containers/bundle-runner.ts) and runs
# nothing: no `npm ci`, no network, so it builds the same offline, here and
# on any machine that deploys. Build context: the repo root (.dockerignore
# lets only build/runner in).
FROM node:20-slim
ENV NODE_ENV=production
ENV PORT=8080
WORKDIR /app
COPY build/runner/ ./
USER node
EXPOSE 8080
CMD ["node", "main.js"]
