package dev.pypimirror.operator.apiserver;

import static dev.pypimirror.operator.apiserver.PodValidation.quoted;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * kube-apiserver's validation of admissionregistration.k8s.io/v1 Mutating- and
 * ValidatingWebhookConfigurations ({@code pkg/apis/admissionregistration/validation}), the rules a
 * writer of entries can break: webhook names fully qualified (three segments) and unique, {@code
 * timeoutSeconds} 1 to 30, {@code sideEffects} None or NoneOnDryRun, {@code
 * admissionReviewVersions} naming a version the server speaks, exactly one of {@code url} and
 * {@code service}, and a URL only over https. Rules, selectors and matchConditions' CEL are not
 * checked here.
 */
public final class WebhookConfigurationValidation {
  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
  private static final List<String> REVIEW_VERSIONS = List.of("v1", "v1beta1");
  private static final List<String> SIDE_EFFECTS = List.of("None", "NoneOnDryRun");

  private WebhookConfigurationValidation() {}

  /** Every problem of the configuration, as the API server lists them; empty when valid. */
  public static List<String> problems(JsonNode configuration) {
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    JsonNode webhooks = configuration.path("webhooks");
    for (int i = 0; i < webhooks.size(); i++) {
      JsonNode webhook = webhooks.get(i);
      String at = "webhooks[" + i + "]";
      String name = webhook.path("name").asText("");
      if (name.isEmpty()) {
        problems.add(at + ".name: Required value");
      } else if (!isFullyQualified(name)) {
        problems.add(
            at
                + ".name: Invalid value: "
                + quoted(name)
                + ": should be a domain with at least three segments separated by dots");
      } else if (!names.add(name)) {
        problems.add(at + ".name: Duplicate value: " + quoted(name));
      }
      JsonNode timeout = webhook.path("timeoutSeconds");
      if (!timeout.isMissingNode()
          && !timeout.isNull()
          && (!timeout.canConvertToInt() || timeout.asInt() < 1 || timeout.asInt() > 30)) {
        problems.add(
            at
                + ".timeoutSeconds: Invalid value: "
                + timeout.asText()
                + ": the timeout value must be between 1 and 30 seconds");
      }
      String sideEffects = webhook.path("sideEffects").asText("");
      if (sideEffects.isEmpty()) {
        problems.add(at + ".sideEffects: Required value: must specify one of None, NoneOnDryRun");
      } else if (!SIDE_EFFECTS.contains(sideEffects)) {
        problems.add(
            at
                + ".sideEffects: Unsupported value: "
                + quoted(sideEffects)
                + ": supported values: \"None\", \"NoneOnDryRun\"");
      }
      reviewVersions(webhook.path("admissionReviewVersions"), at, problems);
      clientConfig(webhook.path("clientConfig"), at + ".clientConfig", problems);
    }
    return problems;
  }

  private static void reviewVersions(JsonNode versions, String at, List<String> problems) {
    if (!versions.isArray() || versions.isEmpty()) {
      problems.add(
          at + ".admissionReviewVersions: Required value: must specify one of v1, v1beta1");
      return;
    }
    List<String> given = new ArrayList<>();
    versions.forEach(v -> given.add(v.asText()));
    if (given.stream().noneMatch(REVIEW_VERSIONS::contains)) {
      problems.add(
          at
              + ".admissionReviewVersions: Invalid value: "
              + versions
              + ": must include at least one of v1, v1beta1");
    }
  }

  private static void clientConfig(JsonNode config, String at, List<String> problems) {
    boolean hasUrl = config.hasNonNull("url");
    boolean hasService = config.hasNonNull("service");
    if (hasUrl == hasService) {
      problems.add(at + ": Required value: exactly one of url or service is required");
      return;
    }
    if (hasUrl) {
      String url = config.path("url").asText();
      try {
        URI uri = new URI(url);
        if (!"https".equals(uri.getScheme())) {
          problems.add(
              at
                  + ".url: Invalid value: "
                  + quoted(url)
                  + ": 'https' is the only allowed URL scheme");
        } else if (uri.getHost() == null || uri.getHost().isEmpty()) {
          problems.add(at + ".url: Invalid value: " + quoted(url) + ": host must be specified");
        }
      } catch (URISyntaxException e) {
        problems.add(
            at
                + ".url: Invalid value: "
                + quoted(url)
                + ": url must be a valid URL: "
                + e.getMessage());
      }
    }
  }

  private static boolean isFullyQualified(String name) {
    return name.length() <= 253
        && SUBDOMAIN.matcher(name).matches()
        && name.split("\\.").length >= 3;
  }
}
