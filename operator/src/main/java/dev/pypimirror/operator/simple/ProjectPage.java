package dev.pypimirror.operator.simple;

import java.util.List;

/** A project's page in the Simple Repository API: its normalized name and its files, in order. */
public record ProjectPage(String name, List<FileLink> files) {
  public ProjectPage {
    files = List.copyOf(files);
  }
}
