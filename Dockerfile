# The operator image: `docker build -t pypi-mirror-operator:0.1.0 .`
# Stage 1 builds the fat jar with the project's own Maven wrapper.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY operator/pom.xml operator/
COPY crds crds
COPY deploy deploy
COPY operator/src operator/src
RUN ./mvnw -B -q package -DskipTests -Dspotless.check.skip=true

# Stage 2: a class-data-sharing archive of the classes the operator loads at start,
# so the JVM maps them instead of parsing them (faster start, shared pages).
FROM eclipse-temurin:17-jre AS cds
COPY --from=build /src/operator/target/pypi-mirror-operator.jar /app/pypi-mirror-operator.jar
# (the demo runs the whole operator in-process, so it loads what `run` loads)
RUN java -XX:ArchiveClassesAtExit=/app/app.jsa -jar /app/pypi-mirror-operator.jar demo >/dev/null

# Stage 3: the runtime: a JRE, the jar and its archive, a non-root user, no shell needed.
FROM eclipse-temurin:17-jre
COPY --from=cds /app /app
USER 65532:65532
WORKDIR /tmp
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=70 -XX:InitialRAMPercentage=20 -XX:+UseSerialGC \
 -XX:+ExitOnOutOfMemoryError -Xss512k -XX:SharedArchiveFile=/app/app.jsa \
 -Dvertx.cacheDirBase=/tmp/vertx-cache -Djava.io.tmpdir=/tmp"
EXPOSE 9443 8080
ENTRYPOINT ["java", "-jar", "/app/pypi-mirror-operator.jar"]
CMD ["run"]
