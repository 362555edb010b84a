package dev.pypimirror.operator.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The API server's rules for object names, so that an offline command refuses what the cluster
 * would: {@code metadata.name} of a custom resource is a DNS-1123 subdomain, {@code
 * metadata.namespace} a DNS-1123 label.
 */
final class ObjectNames {
  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");

  private ObjectNames() {}

  /** What is wrong with the object's name and namespace, in the API server's words; empty: ok. */
  static List<String> problems(HasMetadata object) {
    List<String> problems = new ArrayList<>();
    if (object.getMetadata() == null) {
      return problems;
    }
    String name = object.getMetadata().getName();
    if (name != null && !isSubdomain(name)) {
      problems.add(
          "metadata.name: Invalid value: \"%s\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)"
              .formatted(name));
    }
    String namespace = object.getMetadata().getNamespace();
    if (namespace != null && !isLabel(namespace)) {
      problems.add(
          "metadata.namespace: Invalid value: \"%s\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63 characters)"
              .formatted(namespace));
    }
    return problems;
  }

  static boolean isSubdomain(String value) {
    return value.length() <= 253 && DNS1123_SUBDOMAIN.matcher(value).matches();
  }

  static boolean isLabel(String value) {
    return value.length() <= 63 && DNS1123_LABEL.matcher(value).matches();
  }
}
