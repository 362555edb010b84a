package dev.pypimirror.operator.simple;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** How the pages of several upstreams, in priority order, make the one page a client sees. */
public enum Resolution {
  /**
   * The first upstream that has the project answers alone (uv's {@code first-index}): a project
   * name on a later upstream can never shadow or add to the first's (dependency confusion). An
   * upstream that failed before the first that has it leaves the page undecided: a later upstream
   * never answers for one that may have the project.
   */
  FirstMatch,
  /**
   * Every upstream's files together (pip's {@code extra-index-url}); a file name once, the first
   * upstream's. Upstreams that failed are left out when another has the project.
   */
  Merge;

  /** What one upstream said about a project. */
  public sealed interface Answer {
    record Found(ProjectPage page) implements Answer {}

    /** It does not have the project (404). */
    record Missing() implements Answer {}

    /** It did not answer usefully (time-out, connection, 5xx, a page that does not parse). */
    record Failed() implements Answer {}
  }

  /** The page a client sees, from the upstreams' answers in priority order. */
  public sealed interface Outcome {
    record Page(ProjectPage page) implements Outcome {}

    record NotFound() implements Outcome {}

    /** Not decidable from what answered: serve a stored page, else fail. */
    record Unavailable() implements Outcome {}
  }

  public Outcome resolve(String project, List<Answer> answers) {
    List<FileLink> files = new ArrayList<>();
    Set<String> names = new HashSet<>();
    boolean found = false;
    boolean failed = false;
    for (Answer answer : answers) {
      if (answer instanceof Answer.Failed) {
        failed = true;
        if (this == FirstMatch) {
          return new Outcome.Unavailable();
        }
      } else if (answer instanceof Answer.Found f) {
        found = true;
        for (FileLink file : f.page().files()) {
          if (names.add(file.filename())) {
            files.add(file);
          }
        }
        if (this == FirstMatch) {
          break;
        }
      }
    }
    if (found) {
      return new Outcome.Page(new ProjectPage(project, files));
    }
    return failed ? new Outcome.Unavailable() : new Outcome.NotFound();
  }

  /**
   * How many upstreams, in order, must be asked given the answers so far: FirstMatch stops at the
   * first that has the project or failed, Merge asks all.
   */
  public boolean askNext(List<Answer> answersSoFar) {
    if (this == Merge || answersSoFar.isEmpty()) {
      return true;
    }
    return answersSoFar.get(answersSoFar.size() - 1) instanceof Answer.Missing;
  }
}
