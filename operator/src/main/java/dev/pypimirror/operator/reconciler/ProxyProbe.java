package dev.pypimirror.operator.reconciler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.proxy.UpstreamClient;
import dev.pypimirror.operator.settings.Defaults;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks a mirror's caching proxy, at its Service, whether its cache's volume is full ({@code
 * /-/status}). What it answers is the word of a pod in the mirror's namespace: it feeds a status
 * condition and nothing else.
 */
@FunctionalInterface
public interface ProxyProbe {
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

  /** Over HTTP to the Service, within {@link Defaults#PROXY_PROBE_TIMEOUT}. */
  static ProxyProbe http() {
    return http(Defaults.PROXY_PROBE_TIMEOUT.defaultValue());
  }

  /**
   * Over HTTP, the whole exchange (connect, head and body) within {@code timeout}, a longer answer
   * than {@link #MAX_ANSWER_BYTES} not read: a pod behind the Service that stalls or streams cannot
   * hold the reconcile thread that asks.
   */
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
      CompletableFuture<HttpResponse<byte[]>> exchange =
          http.sendAsync(request, info -> UpstreamClient.bounded(MAX_ANSWER_BYTES));
      try {
        HttpResponse<byte[]> response = exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (response.statusCode() != 200) {
          return Answer.unknown("it answered HTTP " + response.statusCode());
        }
        if (response.body() == null) {
          return Answer.unknown("an answer longer than " + MAX_ANSWER_BYTES + " bytes");
        }
        JsonNode full = json.readTree(response.body()).get("cacheFull");
        if (full == null || !full.isBoolean()) {
          return Answer.unknown("its answer does not say whether the cache is full");
        }
        return new Answer(Optional.of(full.booleanValue()), "");
      } catch (TimeoutException e) {
        return Answer.unknown("no whole answer within " + timeout.toMillis() + " ms");
      } catch (ExecutionException e) {
        return Answer.unknown("cannot ask it (" + e.getCause().getClass().getSimpleName() + ")");
      } catch (IOException | RuntimeException e) {
        return Answer.unknown("cannot ask it (" + e.getClass().getSimpleName() + ")");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Answer.unknown("interrupted");
      } finally {
        exchange.cancel(true); // ends the exchange if it is still going
      }
    };
  }
}
