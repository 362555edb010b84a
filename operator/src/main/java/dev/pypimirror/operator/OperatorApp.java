package dev.pypimirror.operator;

import dev.pypimirror.operator.inject.InformerMirrorDirectory;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.InformerPolicyDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.reconciler.MirrorOperator;
import dev.pypimirror.operator.webhook.MirrorAdmission;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.Set;

/** The running system: the reconcilers, the caches and the webhook server, started together. */
public final class OperatorApp implements AutoCloseable {
  /**
   * @param namespaces namespaces to reconcile PypiMirrors in (empty: all)
   * @param operatorNamespace the operator's own namespace, never injected or governed (null:
   *     unknown)
   * @param webhook where to serve the webhooks (null: no webhook)
   * @param indexImage the image the cache sync Job runs `index` with: this operator's own
   */
  public record Settings(
      Set<String> namespaces,
      String operatorNamespace,
      WebhookServer.Settings webhook,
      String indexImage) {
    public Settings(
        Set<String> namespaces, String operatorNamespace, WebhookServer.Settings webhook) {
      this(namespaces, operatorNamespace, webhook, MirrorOperator.DEFAULT_INDEX_IMAGE);
    }
  }

  private final Operator operator;
  private final InformerMirrorDirectory mirrors;
  private final InformerPolicyDirectory policies;
  private final WebhookServer webhook;

  private OperatorApp(
      Operator operator,
      InformerMirrorDirectory mirrors,
      InformerPolicyDirectory policies,
      WebhookServer webhook) {
    this.operator = operator;
    this.mirrors = mirrors;
    this.policies = policies;
    this.webhook = webhook;
  }

  public static OperatorApp start(KubernetesClient client, Settings settings, Clock clock)
      throws IOException {
    Operator operator =
        MirrorOperator.start(
            client,
            settings.namespaces(),
            settings.operatorNamespace(),
            settings.indexImage(),
            clock);
    InformerMirrorDirectory mirrors = InformerMirrorDirectory.start(client);
    InformerPolicyDirectory policies =
        InformerPolicyDirectory.start(client, settings.operatorNamespace());
    WebhookServer webhook = null;
    if (settings.webhook() != null) {
      var pods =
          new PodAdmission(
              mirrors, policies, settings.operatorNamespace(), PodAdmission.Listener.NONE);
      var mirrorValidation = new MirrorAdmission(policies);
      try {
        webhook =
            new WebhookServer(
                    settings.webhook(),
                    Map.of(
                        WebhookServer.MUTATE_PODS, pods::review,
                        WebhookServer.VALIDATE_MIRRORS, mirrorValidation::review),
                    () -> mirrors.hasSynced() && policies.hasSynced())
                .start();
      } catch (IOException | RuntimeException e) {
        policies.close();
        mirrors.close();
        operator.stop();
        throw e;
      }
    }
    return new OperatorApp(operator, mirrors, policies, webhook);
  }

  public int webhookPort() {
    return webhook.port();
  }

  /** The mirrors as the webhook sees them (the informer cache). */
  public MirrorDirectory mirrors() {
    return mirrors;
  }

  /** The governing policies as the webhook sees them. */
  public PolicyDirectory policies() {
    return policies;
  }

  /** Stops taking admissions first, then the caches and the reconcilers. */
  @Override
  public void close() {
    if (webhook != null) {
      webhook.drain();
      webhook.close();
    }
    policies.close();
    mirrors.close();
    operator.stop();
  }
}
