package dev.pypimirror.operator;

import dev.pypimirror.operator.inject.InformerMirrorDirectory;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.reconciler.MirrorOperator;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.io.IOException;
import java.time.Clock;
import java.util.Set;

/**
 * The running system: the reconcilers, the mirror cache and the webhook server, started together.
 */
public final class OperatorApp implements AutoCloseable {
  /**
   * @param namespaces namespaces to reconcile (empty: all)
   * @param operatorNamespace the operator's own namespace, never injected (null: unknown)
   * @param webhook where to serve the webhook (null: no webhook)
   */
  public record Settings(
      Set<String> namespaces, String operatorNamespace, WebhookServer.Settings webhook) {}

  private final Operator operator;
  private final InformerMirrorDirectory mirrors;
  private final WebhookServer webhook;

  private OperatorApp(Operator operator, InformerMirrorDirectory mirrors, WebhookServer webhook) {
    this.operator = operator;
    this.mirrors = mirrors;
    this.webhook = webhook;
  }

  public static OperatorApp start(KubernetesClient client, Settings settings, Clock clock)
      throws IOException {
    Operator operator = MirrorOperator.start(client, settings.namespaces(), clock);
    InformerMirrorDirectory mirrors = InformerMirrorDirectory.start(client);
    WebhookServer webhook = null;
    if (settings.webhook() != null) {
      try {
        webhook =
            new WebhookServer(
                    settings.webhook(),
                    new PodAdmission(
                        mirrors, settings.operatorNamespace(), PodAdmission.Listener.NONE),
                    mirrors::hasSynced)
                .start();
      } catch (IOException | RuntimeException e) {
        mirrors.close();
        operator.stop();
        throw e;
      }
    }
    return new OperatorApp(operator, mirrors, webhook);
  }

  public int webhookPort() {
    return webhook.port();
  }

  /** The mirrors as the webhook sees them (the informer cache). */
  public MirrorDirectory mirrors() {
    return mirrors;
  }

  /** Stops taking admissions first, then the reconcilers. */
  @Override
  public void close() {
    if (webhook != null) {
      webhook.drain();
      webhook.close();
    }
    mirrors.close();
    operator.stop();
  }
}
