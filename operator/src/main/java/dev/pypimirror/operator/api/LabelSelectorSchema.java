package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * The CRD schema of a policy's label selectors (never instantiated: the code reads fabric8's {@code
 * LabelSelector}). It refuses at admission what the API server's own LabelSelector validation
 * refuses: an unknown or missing operator, In/NotIn without values, Exists/DoesNotExist with
 * values, keys that are not qualified names and values that are not label values. Every list and
 * string is bounded, so the CEL rule's cost is small by construction.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class LabelSelectorSchema {
  /** A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63. */
  public static final String QUALIFIED_NAME =
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
          + "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";

  /** A label value: empty, or at most 63 of these characters, alphanumeric at both ends. */
  public static final String LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";

  /** 253 for the prefix, '/', 63 for the name. */
  public static final int MAX_KEY_LENGTH = 317;

  public static final int MAX_REQUIREMENTS = 32;
  public static final int MAX_VALUES = 64;

  public enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist
  }

  @ValidationRule(
      value =
          "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0"
              + " : !has(self.values) || size(self.values) == 0",
      message = "In and NotIn need values; Exists and DoesNotExist take none")
  public static final class Requirement {
    @Required
    @Size(max = MAX_KEY_LENGTH)
    @Pattern(QUALIFIED_NAME)
    @JsonPropertyDescription("The label key the requirement applies to.")
    public String key;

    @Required
    @Size(max = 12)
    @JsonPropertyDescription(
        "How the key's value relates to values: In, NotIn, Exists, DoesNotExist.")
    public Operator operator;

    @Size(max = MAX_VALUES)
    @JsonPropertyDescription("The values for In and NotIn; empty for Exists and DoesNotExist.")
    public List<@Size(max = 63) @Pattern(LABEL_VALUE) String> values;
  }

  @Size(max = MAX_REQUIREMENTS)
  @JsonPropertyDescription("Label requirements, all of which must hold.")
  public List<Requirement> matchExpressions;

  @Size(max = MAX_REQUIREMENTS)
  @JsonPropertyDescription("Labels that must all be present with these values.")
  public Map<String, @Size(max = 63) @Pattern(LABEL_VALUE) String> matchLabels;

  private LabelSelectorSchema() {}
}
