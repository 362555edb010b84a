package dev.pypimirror.operator.simple;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** PEP 691 JSON pages ({@value #CONTENT_TYPE}): rendered for the proxy, parsed from an upstream. */
public final class SimpleJson {
  public static final String CONTENT_TYPE = "application/vnd.pypi.simple.v1+json";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory FACTORY = MAPPER.getFactory();

  private SimpleJson() {}

  /** A project's page, api-version 1.0. */
  public static byte[] projectPage(ProjectPage page) {
    return write(
        json -> {
          json.writeStartObject();
          meta(json);
          json.writeStringField("name", page.name());
          json.writeArrayFieldStart("files");
          for (FileLink file : page.files()) {
            file(json, file);
          }
          json.writeEndArray();
          json.writeEndObject();
        });
  }

  /** One file: name, URL, hashes, and what of Requires-Python, yanked and core metadata it has. */
  private static void file(JsonGenerator json, FileLink file) throws IOException {
    json.writeStartObject();
    json.writeStringField("filename", file.filename());
    json.writeStringField("url", file.url());
    hashes(json, "hashes", file.hashes());
    if (!file.requiresPython().isEmpty()) {
      json.writeStringField("requires-python", file.requiresPython());
    }
    if (file.yanked() != null) {
      if (file.yanked().isEmpty()) {
        json.writeBooleanField("yanked", true);
      } else {
        json.writeStringField("yanked", file.yanked());
      }
    }
    if (file.coreMetadata() != null) {
      for (String field : List.of("core-metadata", "dist-info-metadata")) {
        if (file.coreMetadata().isEmpty()) {
          json.writeBooleanField(field, true);
        } else {
          hashes(json, field, file.coreMetadata());
        }
      }
    }
    json.writeEndObject();
  }

  private static void hashes(JsonGenerator json, String field, Map<String, String> hashes)
      throws IOException {
    json.writeObjectFieldStart(field);
    for (var hash : hashes.entrySet()) {
      json.writeStringField(hash.getKey(), hash.getValue());
    }
    json.writeEndObject();
  }

  /** The root page: the projects, by name. */
  public static byte[] rootPage(List<String> projects) {
    return write(
        json -> {
          json.writeStartObject();
          meta(json);
          json.writeArrayFieldStart("projects");
          for (String project : projects) {
            json.writeStartObject();
            json.writeStringField("name", project);
            json.writeEndObject();
          }
          json.writeEndArray();
          json.writeEndObject();
        });
  }

  /**
   * An upstream's PEP 691 project page, URLs made absolute against {@code base}. Files whose name
   * or URL is missing or does not parse, or whose URL {@link LinkTargets} drops, are dropped, and
   * so are files whose {@code filename} is not the last segment of their URL's path: pip takes the
   * name from the URL and uv from {@code filename}, so such a file would be another file to each.
   *
   * @throws IOException when it is not JSON or not a project page
   */
  public static ProjectPage parse(String project, byte[] body, URI base) throws IOException {
    JsonNode root = MAPPER.readTree(body);
    JsonNode files = root == null ? null : root.get("files");
    if (files == null || !files.isArray()) {
      throw new IOException("not a PEP 691 project page (no files list)");
    }
    List<FileLink> links = new ArrayList<>();
    LinkTargets targets = new LinkTargets(base);
    for (JsonNode file : files) {
      String filename = text(file.get("filename"));
      String url = text(file.get("url"));
      if (filename == null || filename.isEmpty() || url == null) {
        continue;
      }
      Optional<URI> resolved = targets.resolve(url);
      if (resolved.isEmpty()
          || !SimpleHtml.filename(resolved.get()).equals(Optional.of(filename))) {
        continue;
      }
      String absolute = resolved.get().toString();
      int hash = absolute.indexOf('#');
      absolute = hash < 0 ? absolute : absolute.substring(0, hash);
      JsonNode yanked = file.get("yanked");
      JsonNode metadata =
          file.has("core-metadata") ? file.get("core-metadata") : file.get("dist-info-metadata");
      links.add(
          new FileLink(
              filename,
              absolute,
              hashes(file.get("hashes")),
              text(file.get("requires-python")),
              yanked == null || yanked.isBoolean() && !yanked.booleanValue()
                  ? null
                  : yanked.isTextual() ? yanked.textValue() : "",
              metadata == null || metadata.isBoolean() && !metadata.booleanValue()
                  ? null
                  : hashes(metadata)));
    }
    return new ProjectPage(project, links);
  }

  private static Map<String, String> hashes(JsonNode node) {
    Map<String, String> hashes = new LinkedHashMap<>();
    if (node != null && node.isObject()) {
      node.fields()
          .forEachRemaining(
              e -> {
                if (e.getValue().isTextual() && e.getValue().textValue().matches("[0-9a-fA-F]+")) {
                  hashes.put(
                      e.getKey().toLowerCase(Locale.ROOT),
                      e.getValue().textValue().toLowerCase(Locale.ROOT));
                }
              });
    }
    return hashes;
  }

  private static String text(JsonNode node) {
    return node != null && node.isTextual() ? node.textValue() : null;
  }

  private static void meta(JsonGenerator json) throws IOException {
    json.writeObjectFieldStart("meta");
    json.writeStringField("api-version", "1.0");
    json.writeEndObject();
  }

  private interface Body {
    void write(JsonGenerator json) throws IOException;
  }

  private static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator json = FACTORY.createGenerator(out)) {
      body.write(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
