package dev.pypimirror.operator.reconciler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Asks a mirror's caching proxy, at its Service, whether its cache's volume is full ({@code
 * /-/status}). What it answers is the word of a pod in the mirror's namespace: it feeds a status
 * condition and nothing else.
 */
@FunctionalInterface
public interface ProxyProbe {
  Duration TIMEOUT = Duration.ofSeconds(2);

  /** The most of an answer that is read. */
  int MAX_ANSWER_BYTES = 4096;

  /** What the proxy said: {@code full} empty when it could not be asked or did not answer sense. */
  record Answer(Optional<Boolean> full, String detail) {
    static Answer unknown(String why) {
      return new Answer(Optional.empty(), why);
    }
  }

  /** Asks the proxy serving {@code proxyUrl} (its {@code /simple/} URL). Never throws. */
  Answer ask(URI proxyUrl);

  /** Over HTTP to the Service, with {@link #TIMEOUT} to connect and to answer. */
  static ProxyProbe http() {
    return http(TIMEOUT);
  }

  /** Over HTTP, with {@code timeout} to connect and to answer. */
  static ProxyProbe http(Duration timeout) {
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    ObjectMapper json = new ObjectMapper();
    return url -> {
      HttpRequest request =
          HttpRequest.newBuilder(url.resolve("/-/status")).timeout(timeout).GET().build();
      try {
        HttpResponse<InputStream> response =
            http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        byte[] body;
        try (InputStream in = response.body()) {
          body = in.readNBytes(MAX_ANSWER_BYTES);
        }
        if (response.statusCode() != 200) {
          return Answer.unknown("it answered HTTP " + response.statusCode());
        }
        JsonNode full = json.readTree(body).get("cacheFull");
        if (full == null || !full.isBoolean()) {
          return Answer.unknown("its answer does not say whether the cache is full");
        }
        return new Answer(Optional.of(full.booleanValue()), "");
      } catch (IOException | RuntimeException e) {
        return Answer.unknown("cannot ask it (" + e.getClass().getSimpleName() + ")");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Answer.unknown("interrupted");
      }
    };
  }
}
