package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads Kubernetes manifests (YAML streams or JSON) from a file or stdin, with errors that say
 * where.
 */
final class ManifestReader {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * Strict, like `kubectl --validate=strict`: a misspelt field is an error, not silently dropped.
   */
  private static final ObjectMapper STRICT =
      Serialization.jsonMapper().copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final String source;
  private final List<JsonNode> documents;

  /** Where each document is, for messages: the file, and which document of it when several. */
  private final List<String> wheres;

  /** Read from a folder ({@code -f DIR}): objects of other kinds may be skipped. */
  private final boolean folder;

  private ManifestReader(
      String source, List<JsonNode> documents, List<String> wheres, boolean folder) {
    this.source = source;
    this.documents = documents;
    this.wheres = wheres;
    this.folder = folder;
  }

  /** The manifest file names a folder is read for, as kubectl reads {@code -f DIR}. */
  private static final List<String> MANIFEST_EXTENSIONS = List.of(".yaml", ".yml", ".json");

  /**
   * Reads {@code file}, standard input for "-", or, like {@code kubectl -f DIR}, every {@code
   * .yaml}, {@code .yml} and {@code .json} file of a folder in name order ({@code recursive}: of
   * its subfolders too, as {@code -R} does), each file within the size limit.
   */
  static ManifestReader read(String file, boolean recursive, InputStream stdin) {
    if ("-".equals(file) || !Files.isDirectory(Path.of(file))) {
      return read(file, stdin);
    }
    List<Path> files;
    try (var walk = Files.walk(Path.of(file), recursive ? Integer.MAX_VALUE : 1)) {
      files =
          walk.filter(Files::isRegularFile)
              .filter(f -> MANIFEST_EXTENSIONS.stream().anyMatch(f.toString()::endsWith))
              .sorted()
              .toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new CliException(file + ": cannot read: " + e.getMessage());
    }
    if (files.isEmpty()) {
      throw new CliException(
          file
              + ": no .yaml, .yml or .json file in the folder"
              + (recursive ? " or below it" : " (-R reads its subfolders too)"));
    }
    List<JsonNode> documents = new ArrayList<>();
    List<String> wheres = new ArrayList<>();
    for (Path each : files) {
      ManifestReader one = read(each.toString(), stdin);
      documents.addAll(one.documents);
      wheres.addAll(one.wheres);
    }
    return new ManifestReader(file, documents, wheres, true);
  }

  /**
   * The most an input may hold: what kube-apiserver accepts in one request (3 MiB); anything larger
   * could never be applied, and is refused before it is read.
   */
  static final int MAX_INPUT_BYTES = 3 * 1024 * 1024;

  /** Reads {@code file}, or standard input when it is "-". */
  static ManifestReader read(String file, InputStream stdin) {
    String source = "-".equals(file) ? "<stdin>" : file;
    String text = readBounded(file, stdin);
    refuseAliases(source, text);
    List<JsonNode> documents = new ArrayList<>();
    try (var parser = YAML.createParser(text)) {
      var it = YAML.readValues(parser, JsonNode.class);
      while (it.hasNextValue()) {
        JsonNode node = it.nextValue();
        if (node != null && !node.isNull() && !node.isMissingNode()) {
          documents.add(node);
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new CliException(source + ": not valid YAML or JSON" + at(e) + ": " + firstLine(e));
    }
    if (documents.isEmpty()) {
      throw new CliException(source + ": no object in input");
    }
    List<String> wheres = new ArrayList<>();
    for (int i = 0; i < documents.size(); i++) {
      wheres.add(documents.size() == 1 ? source : source + " (document " + (i + 1) + ")");
      requireKind(documents.get(i), wheres.get(i));
    }
    return new ManifestReader(source, documents, wheres, false);
  }

  /**
   * The text of {@code file} (or standard input for "-"), refused with one line when it holds more
   * than {@link #MAX_INPUT_BYTES}: a file by its size before reading, a stream as soon as it passes
   * the limit.
   */
  static String readBounded(String file, InputStream stdin) {
    String source = "-".equals(file) ? "<stdin>" : file;
    try (InputStream in = "-".equals(file) ? null : Files.newInputStream(Path.of(file))) {
      if (!"-".equals(file)
          && Files.isRegularFile(Path.of(file))
          && Files.size(Path.of(file)) > MAX_INPUT_BYTES) {
        throw tooLarge(source);
      }
      byte[] bytes = (in == null ? stdin : in).readNBytes(MAX_INPUT_BYTES + 1);
      if (bytes.length > MAX_INPUT_BYTES) {
        throw tooLarge(source);
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new CliException(source + ": no such file");
    } catch (IOException e) {
      throw new CliException(source + ": cannot read: " + e.getMessage());
    }
  }

  /** {@code text}, refused with one line when it holds more than {@link #MAX_INPUT_BYTES}. */
  static String bounded(String source, String text) {
    if (text.getBytes(StandardCharsets.UTF_8).length > MAX_INPUT_BYTES) {
      throw tooLarge(source);
    }
    return text;
  }

  private static CliException tooLarge(String source) {
    return new CliException(
        source
            + ": larger than 3 MiB ("
            + MAX_INPUT_BYTES
            + " bytes), the most the Kubernetes API server accepts in one request");
  }

  /**
   * YAML aliases ({@code *name}) are refused: read as plain strings they would silently change the
   * manifest (an {@code image: *img} becoming "img"), and expanded they can multiply an input.
   */
  private static void refuseAliases(String source, String text) {
    try (var parser = (YAMLParser) YAML.createParser(text)) {
      while (parser.nextToken() != null) {
        if (parser.isCurrentAlias()) {
          JsonLocation l = parser.currentTokenLocation();
          throw new CliException(
              source
                  + ": YAML alias *"
                  + parser.getText()
                  + " at line "
                  + l.getLineNr()
                  + ", column "
                  + l.getColumnNr()
                  + ": aliases are not supported; write the value out");
        }
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof CliException cli) {
        throw cli;
      }
      // not YAML: the reader below says where
    }
  }

  /** Like kubectl: every object says what it is; a List's items too. */
  private static void requireKind(JsonNode node, String where) {
    if (!node.isObject()) {
      throw new CliException(where + ": not an object");
    }
    if (!node.path("kind").isTextual() || node.path("kind").asText().isBlank()) {
      throw new CliException(where + ": object has no kind");
    }
    if (!node.path("apiVersion").isTextual() || node.path("apiVersion").asText().isBlank()) {
      throw new CliException(where + ": object has no apiVersion");
    }
    if (node.path("kind").asText().endsWith("List") && node.path("items").isArray()) {
      for (int i = 0; i < node.path("items").size(); i++) {
        requireKind(node.path("items").get(i), where + " items[" + i + "]");
      }
    }
  }

  List<JsonNode> documents() {
    return documents;
  }

  String source() {
    return source;
  }

  /** Where document {@code i} is, for messages. */
  String where(int i) {
    return wheres.get(i);
  }

  /** An object read from the input and where it was, for messages. */
  record Located<T>(T object, String where) {}

  /** Every PypiMirror of the input (documents and List items); anything else is bad input. */
  List<Located<PypiMirror>> mirrors() {
    return mirrors(null);
  }

  /**
   * Every PypiMirror of the input (documents and List items). Read from a folder, objects of other
   * kinds are skipped, each told to {@code skipped}; else (or with no {@code skipped}) they are bad
   * input.
   */
  List<Located<PypiMirror>> mirrors(java.util.function.Consumer<String> skipped) {
    List<Located<PypiMirror>> mirrors = new ArrayList<>();
    for (int i = 0; i < documents.size(); i++) {
      String where = wheres.get(i);
      JsonNode document = documents.get(i);
      if (document.path("kind").asText().endsWith("List") && document.path("items").isArray()) {
        for (int j = 0; j < document.path("items").size(); j++) {
          String item = where + " items[" + j + "]";
          addMirror(mirrors, document.path("items").get(j), item, skipped);
        }
      } else {
        addMirror(mirrors, document, where, skipped);
      }
    }
    return mirrors;
  }

  private void addMirror(
      List<Located<PypiMirror>> mirrors,
      JsonNode node,
      String where,
      java.util.function.Consumer<String> skipped) {
    if (folder && skipped != null && !"PypiMirror".equals(node.path("kind").asText())) {
      skipped.accept(where + ": " + node.path("kind").asText());
      return;
    }
    mirrors.add(new Located<>(toMirror(node, where), where));
  }

  /** The one PypiMirror the input must hold. */
  PypiMirror singleMirror() {
    if (documents.size() != 1) {
      throw new CliException(
          source + ": expected one PypiMirror, found " + documents.size() + " objects");
    }
    return toMirror(documents.get(0), source);
  }

  static PypiMirror toMirror(JsonNode node, String where) {
    PypiMirror mirror = toResource(node, where, PypiMirror.class);
    if (mirror.getSpec() == null) {
      mirror.setSpec(new dev.pypimirror.operator.api.PypiMirrorSpec());
    }
    return mirror;
  }

  /** The one PypiMirrorPolicy the input must hold. */
  PypiMirrorPolicy singlePolicy() {
    if (documents.size() != 1) {
      throw new CliException(
          source + ": expected one PypiMirrorPolicy, found " + documents.size() + " objects");
    }
    PypiMirrorPolicy policy = toResource(documents.get(0), source, PypiMirrorPolicy.class);
    if (policy.getSpec() == null || policy.getSpec().getNamespaceSelector() == null) {
      throw new CliException(
          source + ": PypiMirrorPolicy needs spec.namespaceSelector ({} selects every namespace)");
    }
    if (policy.getMetadata() == null || policy.getMetadata().getName() == null) {
      throw new CliException(source + ": metadata.name is required");
    }
    var problems = dev.pypimirror.operator.policy.Governance.problems(policy);
    if (!problems.isEmpty()) {
      throw new CliException(source + ": " + String.join("; ", problems));
    }
    return policy;
  }

  static <T extends io.fabric8.kubernetes.api.model.HasMetadata> T toResource(
      JsonNode node, String where, Class<T> resourceType) {
    String kind = node.path("kind").asText("");
    String apiVersion = node.path("apiVersion").asText("");
    String expectedKind = resourceType.getSimpleName();
    String expected = PypiMirror.GROUP + "/" + PypiMirror.VERSION;
    if (!expectedKind.equals(kind) || !expected.equals(apiVersion)) {
      throw new CliException(
          where
              + ": expected kind "
              + expectedKind
              + ", apiVersion "
              + expected
              + "; got kind \""
              + kind
              + "\", apiVersion \""
              + apiVersion
              + "\"");
    }
    List<String> unknown = new ArrayList<>();
    T resource;
    try {
      resource =
          STRICT.readerFor(resourceType).withHandler(collectUnknown(unknown)).readValue(node);
    } catch (InvalidFormatException e) {
      Class<?> type = e.getTargetType();
      String wanted =
          type.isEnum()
              ? "one of " + java.util.Arrays.toString(type.getEnumConstants())
              : "a valid " + type.getSimpleName().toLowerCase();
      throw new CliException(
          where + ": field \"" + path(e) + "\": \"" + e.getValue() + "\" is not " + wanted);
    } catch (JsonMappingException e) {
      throw new CliException(where + ": field \"" + path(e) + "\": " + firstLine(e));
    } catch (JsonProcessingException e) {
      throw new CliException(where + ": " + firstLine(e));
    } catch (IOException e) {
      throw new CliException(where + ": " + e.getMessage());
    }
    if (!unknown.isEmpty()) {
      throw new CliException(
          where
              + ": unknown field"
              + (unknown.size() > 1 ? "s " : " ")
              + unknown.stream().map(f -> "\"" + f + "\"").collect(Collectors.joining(", ")));
    }
    List<String> badNames = ObjectNames.problems(resource);
    if (!badNames.isEmpty()) {
      throw new CliException(where + ": " + String.join("; ", badNames));
    }
    return resource;
  }

  /**
   * Like the API server's strict field validation: every unknown field is named, not only the
   * first.
   */
  private static DeserializationProblemHandler collectUnknown(List<String> unknown) {
    return new DeserializationProblemHandler() {
      @Override
      public boolean handleUnknownProperty(
          DeserializationContext context,
          JsonParser parser,
          JsonDeserializer<?> deserializer,
          Object bean,
          String property)
          throws IOException {
        JsonStreamContext where = parser.getParsingContext();
        if (parser.currentToken() != null && parser.currentToken().isStructStart()) {
          where = where.getParent(); // the parser already stands inside the unknown value
        }
        unknown.add(path(where));
        parser.skipChildren();
        return true;
      }
    };
  }

  private static String path(JsonStreamContext context) {
    StringBuilder path = new StringBuilder();
    for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inArray()) {
        path.insert(0, "[" + c.getCurrentIndex() + "]");
      } else if (c.getCurrentName() != null) {
        path.insert(0, (path.isEmpty() || path.charAt(0) == '[' ? "" : "."))
            .insert(0, c.getCurrentName());
      }
    }
    return path.toString();
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."))
        .replace(".[", "[");
  }

  private static String at(Exception e) {
    if (e instanceof JsonProcessingException j && j.getLocation() != null) {
      JsonLocation l = j.getLocation();
      return " at line " + l.getLineNr() + ", column " + l.getColumnNr();
    }
    return "";
  }

  private static String firstLine(Exception e) {
    String message =
        e instanceof JsonProcessingException j
            ? j.getOriginalMessage()
            : String.valueOf(e.getMessage());
    return message == null
        ? e.getClass().getSimpleName()
        : message.lines().findFirst().orElse("").trim();
  }
}
