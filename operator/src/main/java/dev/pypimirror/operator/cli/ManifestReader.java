package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
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

  private ManifestReader(String source, List<JsonNode> documents) {
    this.source = source;
    this.documents = documents;
  }

  /** Reads {@code file}, or standard input when it is "-". */
  static ManifestReader read(String file, InputStream stdin) {
    String source = "-".equals(file) ? "<stdin>" : file;
    String text;
    try {
      text =
          "-".equals(file)
              ? new String(stdin.readAllBytes(), StandardCharsets.UTF_8)
              : Files.readString(Path.of(file));
    } catch (NoSuchFileException e) {
      throw new CliException(source + ": no such file");
    } catch (IOException e) {
      throw new CliException(source + ": cannot read: " + e.getMessage());
    }
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
    return new ManifestReader(source, documents);
  }

  List<JsonNode> documents() {
    return documents;
  }

  String source() {
    return source;
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
    try {
      return STRICT.treeToValue(node, resourceType);
    } catch (UnrecognizedPropertyException e) {
      throw new CliException(where + ": unknown field \"" + path(e) + "\"");
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
    }
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
