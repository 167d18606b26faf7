# syntax=docker/dockerfile:1
#
# Cairn server image.
#   docker build -t cairn .
#   docker run -p 9000:9000 -p 9001:9001 -v cairn-data:/data \
#     -e CAIRN_ROOT_USER=admin -e CAIRN_ROOT_PASSWORD=change-me-please cairn
#
#   (or: docker compose up -d, with docker-compose.yml beside this file)
#
# Environment (read by the server; deliberately not set here, so no default credentials ship; each
# CAIRN_* variable is also read as MINIO_*, so MinIO's env files work as they are):
#   CAIRN_ROOT_USER       access key of the root account
#   CAIRN_ROOT_PASSWORD   secret key of the root account (8 to 40 characters). With neither set, a
#                         pair is generated and printed in the container log; it changes every start.
#   CAIRN_REGION          region the server answers for (default us-east-1)
#   CAIRN_DOMAIN          domains for virtual-host style requests (bucket.domain), comma-separated
#   CAIRN_VOLUMES         drives, when the command gives none

# Node 20 is past end of life (April 2026); 22 is the oldest maintained LTS.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm AS build
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH
RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --no-modify-path --profile minimal --default-toolchain stable
WORKDIR /src
# Dependencies first, so editing the source does not re-download them.
COPY package.json package-lock.json ./
# --ignore-scripts: the install script would compile the addon before the source is copied in.
RUN npm ci --ignore-scripts
COPY . .
# The addon (native/cairn-native.<platform>.node) and dist/. No -C target-cpu: the crate picks its
# SIMD kernels at run time, so the image runs on any CPU of its architecture.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# The node image's own user already holds uid 1000: rename it to cairn rather than add a second one.
RUN groupmod --new-name cairn node \
 && usermod --login cairn --home /home/cairn --move-home node \
 && mkdir /data \
 && chown cairn:cairn /data
WORKDIR /app
# Owned by root: the server can read its code but not change it.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# The napi loader and the addon it loads from beside it.
COPY --from=build /src/native/platform.js /src/native/*.node ./native/
USER cairn
VOLUME /data
# 9000: S3 API, 9001: web console
EXPOSE 9000 9001
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9000/minio/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/cairn.js"]
CMD ["server", "/data", "--console-address", ":9001"]
