package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;

/** How commands print Kubernetes objects: a YAML stream, or a JSON List (as kubectl does). */
enum OutputFormat {
  yaml,
  json;

  /** A single object as itself; several as a List (JSON) or a stream (YAML). */
  String format(Object objectOrList) {
    List<?> objects = objectOrList instanceof List<?> list ? list : List.of(objectOrList);
    try {
      if (this == json && !(objectOrList instanceof List<?>)) {
        return Serialization.jsonMapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(objectOrList)
            + "\n";
      }
      if (this == json) {
        var list = Serialization.jsonMapper().createObjectNode();
        list.put("apiVersion", "v1");
        list.put("kind", "List");
        list.set("items", Serialization.jsonMapper().valueToTree(objects));
        return Serialization.jsonMapper().writerWithDefaultPrettyPrinter().writeValueAsString(list)
            + "\n";
      }
      StringBuilder out = new StringBuilder();
      for (Object object : objects) {
        out.append(Serialization.asYaml(object));
      }
      return out.toString();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize output", e);
    }
  }
}
