package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A kustomize tree of deploy/ rendered by the real `kubectl kustomize`. */
public final class Kustomize {
  private Kustomize() {}

  /** The objects `kubectl kustomize <dir>` renders, dir relative to the repository root. */
  public static List<JsonNode> render(String dir) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("kubectl", "kustomize", ProjectPaths.ROOT.resolve(dir).toString())
            .redirectErrorStream(false)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("kubectl kustomize " + dir + " failed: " + err);
    }
    List<JsonNode> docs = new ArrayList<>();
    var it = new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class).readValues(out);
    while (it.hasNext()) {
      docs.add((JsonNode) it.next());
    }
    return docs;
  }
}
