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
  private static final String SUBDOMAIN_MESSAGE =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or"
          + " '.', and must start and end with an alphanumeric character (e.g. 'example.com',"
          + " regex used for validation is '"
          + LABEL
          + "(\\."
          + LABEL
          + ")*')";
  private static final String URL_FORM = "; desired format: https://host[/path]";

  private WebhookConfigurationValidation() {}

  /**
   * Every problem of the configuration, in the API server's order and words ({@code
   * validateMutatingWebhookConfiguration}): per webhook, {@code validateMutatingWebhook} (the name,
   * then sideEffects, timeoutSeconds, clientConfig), then {@code validateAdmissionReviewVersions},
   * then the duplicate-name check, which looks at any non-empty name, valid or not. Empty when
   * valid.
   */
  public static List<String> problems(JsonNode configuration) {
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    JsonNode webhooks = configuration.path("webhooks");
    for (int i = 0; i < webhooks.size(); i++) {
      JsonNode webhook = webhooks.get(i);
      String at = "webhooks[" + i + "]";
      String name = webhook.path("name").asText("");
      fullyQualifiedName(name, at + ".name", problems);
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
      clientConfig(webhook.path("clientConfig"), at + ".clientConfig", problems);
      reviewVersions(webhook.path("admissionReviewVersions"), at, problems);
      if (!name.isEmpty() && !names.add(name)) {
        problems.add(at + ".name: Duplicate value: " + quoted(name));
      }
    }
    return problems;
  }

  /**
   * apimachinery's {@code IsFullyQualifiedName}: required, a DNS subdomain ({@code
   * IsDNS1123Subdomain}'s words), at least three segments.
   */
  private static void fullyQualifiedName(String name, String at, List<String> problems) {
    if (name.isEmpty()) {
      problems.add(at + ": Required value");
    } else if (name.length() > 253) {
      problems.add(
          at + ": Invalid value: " + quoted(name) + ": must be no more than 253 characters");
    } else if (!SUBDOMAIN.matcher(name).matches()) {
      problems.add(at + ": Invalid value: " + quoted(name) + ": " + SUBDOMAIN_MESSAGE);
    } else if (name.split("\\.").length < 3) {
      problems.add(
          at
              + ": Invalid value: "
              + quoted(name)
              + ": should be a domain with at least three segments separated by dots");
    }
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

  /**
   * {@code validateMutatingWebhook}'s client config: exactly one of url and service; a URL as
   * apiserver's {@code webhook.ValidateWebhookURL} checks it (the scheme or host as the value,
   * every problem reported).
   */
  private static void clientConfig(JsonNode config, String at, List<String> problems) {
    boolean hasUrl = config.hasNonNull("url");
    boolean hasService = config.hasNonNull("service");
    if (hasUrl == hasService) {
      problems.add(at + ": Required value: exactly one of url or service is required");
      return;
    }
    if (!hasUrl) {
      return;
    }
    String url = config.path("url").asText();
    String urlAt = at + ".url";
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      problems.add(
          urlAt + ": Required value: url must be a valid URL: " + e.getMessage() + URL_FORM);
      return;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    if (!"https".equals(scheme)) {
      problems.add(
          urlAt
              + ": Invalid value: "
              + quoted(scheme)
              + ": 'https' is the only allowed URL scheme"
              + URL_FORM);
    }
    String host =
        uri.getRawAuthority() == null ? "" : uri.getRawAuthority().replaceFirst(".*@", "");
    if (host.isEmpty()) {
      problems.add(urlAt + ": Invalid value: \"\": host must be specified" + URL_FORM);
    }
    notPermitted(uri.getRawUserInfo(), "user information is", urlAt, problems);
    notPermitted(uri.getRawFragment(), "fragments are", urlAt, problems);
    notPermitted(uri.getRawQuery(), "query parameters are", urlAt, problems);
  }

  private static void notPermitted(String part, String what, String at, List<String> problems) {
    if (part != null && !part.isEmpty()) {
      problems.add(
          at + ": Invalid value: " + quoted(part) + ": " + what + " not permitted in the URL");
    }
  }
}
