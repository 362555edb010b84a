package dev.pypimirror.operator.config;

import java.util.List;

/** A PypiMirror spec that cannot be rendered; the message lists every problem with its field. */
public class InvalidMirrorException extends RuntimeException {
  private final List<String> problems;

  public InvalidMirrorException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
