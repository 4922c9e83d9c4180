# syntax=docker/dockerfile:1
# The `preview` image: the CLI and `preview serve` (the webhook server) in one runnable jar.
#   docker build -t preview .
#   docker run --rm -p 8080:8080 -v $PWD/preview.yaml:/etc/preview/preview.yaml:ro \
#     -e GITHUB_TOKEN -e GITHUB_WEBHOOK_SECRET preview
# Kubernetes: deploy/kubernetes/preview.yaml. The default command is `serve`; any other command
# runs instead, e.g. `docker run --rm -v $PWD:/work -w /work preview validate`.

# ---- build: the shaded jar, from source, with the tests left to CI ----
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY preview-bom preview-bom
COPY preview-core preview-core
COPY preview-testkit preview-testkit
COPY preview-docker preview-docker
COPY preview-db preview-db
COPY preview-dns preview-dns
COPY preview-scm preview-scm
COPY preview-k8s preview-k8s
COPY preview-server preview-server
COPY preview-examples preview-examples
COPY preview-cli preview-cli
COPY preview-benchmarks preview-benchmarks
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -pl preview-cli -am package -DskipTests \
 && mkdir -p /out/bin \
 && cp preview-cli/target/preview.jar /out/bin/preview.jar \
 && cp preview-cli/src/main/dist/preview /out/bin/preview \
 && chmod 0755 /out/bin/preview

# ---- run: a JRE, the jar, its launcher and a class data sharing archive; never root ----
FROM eclipse-temurin:17-jre AS run
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 preview \
 && useradd --system --uid 10001 --gid preview --home-dir /home/preview --create-home preview
COPY --from=build /out/bin /opt/preview/bin
COPY LICENSE NOTICE /opt/preview/
# the CDS archive matches this jar in this JRE: made here, read by the launcher on every start
RUN /opt/preview/bin/preview cds-archive && chmod 0444 /opt/preview/bin/preview.jsa
ENV PATH=/opt/preview/bin:$PATH
USER 10001:10001
WORKDIR /home/preview
EXPOSE 8080
# /livez answers 200 while the server serves, leader or standby (/healthz is 503 on a standby)
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/livez || exit 1
ENTRYPOINT ["/opt/preview/bin/preview"]
CMD ["serve", "--config", "/etc/preview/preview.yaml", "--port", "8080"]
