# The operator image (docs/install.md "The image"):
#   docker build -t REGISTRY/pypi-mirror-operator:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg VCS_REF="$(git rev-parse HEAD)" \
#     --build-arg SOURCE=https://your.git.host/pypi-mirror-operator .
# Behind a TLS-inspecting proxy or with an in-house Maven repository:
#     --build-arg EXTRA_CA_CERT="$(cat corp-ca.pem)" --build-arg MAVEN_SETTINGS="$(cat settings.xml)"
# deploy/image-check builds it and runs it as a cluster would.
# The build (and every test) stays on Java 17 (the sources are compiled with release 17); the
# runtime is Java 25 for its ahead-of-time class cache (JEP 483/514/515) and compact object
# headers (JEP 519). bench/process reads JRE_IMAGE and JVM_OPTIONS from here.
ARG JDK_IMAGE=eclipse-temurin:17-jdk
ARG JRE_IMAGE=eclipse-temurin:25-jre
# The runtime's JVM options; the training run below uses the same, as the cache requires.
ARG JVM_OPTIONS="-XX:MaxRAMPercentage=70 -XX:InitialRAMPercentage=5 -XX:+UseSerialGC \
 -XX:+UseCompactObjectHeaders -XX:TrimNativeHeapInterval=5000 -XX:+ExitOnOutOfMemoryError -Xss512k"

# Stage 1 builds the fat jar with the project's own Maven wrapper.
FROM ${JDK_IMAGE} AS build
# PEM certificates to trust besides the public CAs (curl and Java both), and a settings.xml
# for Maven (mirror, proxy, credentials). Both stay in this stage: the image does not carry them.
ARG EXTRA_CA_CERT=""
ARG MAVEN_SETTINGS=""
RUN set -e; \
    if [ -n "$EXTRA_CA_CERT" ]; then \
      printf '%s\n' "$EXTRA_CA_CERT" > /usr/local/share/ca-certificates/extra-ca.crt; \
      update-ca-certificates >/dev/null 2>&1; \
      mkdir /tmp/extra-ca; \
      csplit -s -z -f /tmp/extra-ca/cert- /usr/local/share/ca-certificates/extra-ca.crt \
        '/-----BEGIN CERTIFICATE-----/' '{*}'; \
      for cert in $(grep -l 'BEGIN CERTIFICATE' /tmp/extra-ca/cert-*); do \
        keytool -importcert -noprompt -cacerts -storepass changeit \
          -alias "extra-ca-${cert##*-}" -file "$cert" >/tmp/keytool.log 2>&1 \
          || { cat /tmp/keytool.log; exit 1; }; \
      done; \
      rm -r /tmp/extra-ca; \
    fi; \
    if [ -n "$MAVEN_SETTINGS" ]; then \
      mkdir -p /root/.m2 && printf '%s\n' "$MAVEN_SETTINGS" > /root/.m2/settings.xml; \
    fi
WORKDIR /src
# The dependency layer: Maven, and every plugin and dependency the package build uses, fetched
# by building the poms alone (no sources yet), so a source change only recompiles, offline.
# (dependency:go-offline misses what plugins resolve at run time.)
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY operator/pom.xml operator/
# the reactor lists bench/ too (compiled by every build); the image needs only its pom
COPY bench/pom.xml bench/
RUN ./mvnw -B -q -pl operator package -DskipTests -Dspotless.check.skip=true && rm -rf operator/target
# The sources. .git is not in the build context: the commit comes in as VCS_REF.
# (the jar carries deploy/examples and deploy/webhook for `demo`)
COPY deploy/examples deploy/examples
COPY deploy/webhook deploy/webhook
COPY operator/src operator/src
ARG VCS_REF=unknown
RUN ./mvnw -B -q -o -pl operator package -Dmaven.test.skip=true -Dspotless.check.skip=true \
      -Dgit.commit.id="$VCS_REF"

# Stage 2: the ahead-of-time cache of the classes the operator loads and links at start (and of
# the method profiles of that run), so the JVM maps them instead of parsing, verifying and
# linking them. A training run makes it: the demo runs the whole operator in-process against an
# embedded API server, so it loads what `run` loads. Quiet: the JVM's notes on classes it cannot
# cache and the demo's own output are shown only if it fails.
FROM ${JRE_IMAGE} AS aot
ARG JVM_OPTIONS
COPY --from=build /src/operator/target/pypi-mirror-operator.jar /app/pypi-mirror-operator.jar
RUN java ${JVM_OPTIONS} -XX:AOTCacheOutput=/app/app.aot -Xlog:disable -Xlog:all=error:stderr \
      -jar /app/pypi-mirror-operator.jar demo >/tmp/aot.log 2>&1 \
    || { cat /tmp/aot.log; exit 1; }; \
    test -s /app/app.aot

# Stage 3: the runtime: a JRE, the jar and its cache, a non-root user, no shell needed.
FROM ${JRE_IMAGE}
ARG JVM_OPTIONS
ARG VERSION=unknown
ARG VCS_REF=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="pypi-mirror-operator" \
      org.opencontainers.image.description="Kubernetes operator that gives image-build pods a PyPI mirror" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=aot /app /app
USER 65532:65532
WORKDIR /tmp
ENV JAVA_TOOL_OPTIONS="${JVM_OPTIONS} -XX:AOTCache=/app/app.aot \
 -Dvertx.cacheDirBase=/tmp/vertx-cache -Djava.io.tmpdir=/tmp"
EXPOSE 9443 8080
ENTRYPOINT ["java", "-jar", "/app/pypi-mirror-operator.jar"]
CMD ["run"]
