package dev.pypimirror.operator.cli;

/** Bad input to a command: printed as one line on stderr, exit status 2. */
public class CliException extends RuntimeException {
  public CliException(String message) {
    super(message);
  }
}
