package dev.pypimirror.operator.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An option that takes one of a few words, each naming a value: picocli's converter for it, and its
 * words as the completions (an alias converts but is not offered).
 */
abstract class Choices<E> implements ITypeConverter<E>, Iterable<String> {
  private final List<String> words = new ArrayList<>();
  private final Map<String, E> values = new HashMap<>();

  /** Offers {@code word} for {@code value}. */
  Choices<E> word(String word, E value) {
    words.add(word);
    return alias(word, value);
  }

  /** Takes {@code alias} for {@code value} without offering it. */
  Choices<E> alias(String alias, E value) {
    values.put(alias, value);
    return this;
  }

  @Override
  public Iterator<String> iterator() {
    return words.iterator();
  }

  @Override
  public E convert(String value) {
    E converted = values.get(value);
    if (converted == null) {
      String expected =
          String.join(", ", words.subList(0, words.size() - 1))
              + " or "
              + words.get(words.size() - 1);
      throw new TypeConversionException("expected " + expected + ", got " + value);
    }
    return converted;
  }
}
