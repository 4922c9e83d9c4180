package dev.preview.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.preview.core.assembly.ConfiguredProviders;
import dev.preview.core.assembly.PreviewConfig;
import dev.preview.core.assembly.ProviderRegistry;
import dev.preview.spi.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code preview validate}: every problem of a {@code preview.yaml} at once, with its path. YAML
 * syntax errors keep the parser's whole explanation (the core keeps its first line only) and a tab in
 * an indentation is named as the problem.
 */
final class Validation {
  private static final String SYNTAX = ": invalid YAML: ";
  private static final YAMLFactory YAML = YAMLFactory.builder().enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private Validation() {}

  /** Every problem of {@code file}: its own, then each provider's (built, then closed; no server is contacted). */
  static List<String> problems(Path file, Map<String, String> env) {
    PreviewConfig config;
    try {
      config = Configured.read(file, env);
    } catch (ConfigurationException e) {
      return e.problems();
    }
    Set<String> all = new LinkedHashSet<>(config.problems());
    try (ConfiguredProviders p = config.createProviders(ProviderRegistry.defaultRegistry())) {
      // built: every key of every provider section was read and checked
    } catch (ConfigurationException e) {
      all.addAll(e.problems());
    }
    return List.copyOf(all);
  }

  static boolean isSyntaxProblem(String problem) {
    return problem.contains(SYNTAX);
  }

  /** The problems of {@code config} with its YAML syntax problem told in full (see {@link #syntax}). */
  static List<String> problems(PreviewConfig config, Path file) {
    List<String> out = new ArrayList<>();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return config.problems();
    }
    List<String> syntax = syntax(text, config.source());
    for (String p : config.problems()) {
      if (isSyntaxProblem(p) && !syntax.isEmpty()) {
        out.addAll(syntax);
        syntax = List.of();
      } else if (!isSyntaxProblem(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * The YAML syntax problems of {@code text}: each tab that indents a line (YAML indents with spaces
   * only), then the parser's error with line, column and its whole explanation. Empty when it parses.
   */
  static List<String> syntax(String text, String source) {
    List<String> out = new ArrayList<>();
    try (JsonParser p = YAML.createParser(text)) {
      while (p.nextToken() != null) {
        // read to the end: a syntax error anywhere, or a duplicate key, is thrown
      }
      return out;
    } catch (JsonProcessingException e) {
      String[] lines = text.split("\r?\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        int indent = 0;
        while (indent < line.length() && (line.charAt(indent) == ' ' || line.charAt(indent) == '\t')) {
          indent++;
        }
        int tab = line.substring(0, indent).indexOf('\t');
        if (tab >= 0 && indent < line.length()) {
          out.add(source + " line " + (i + 1) + ", column " + (tab + 1) + ": a tab character indents this line;"
              + " YAML indents with spaces only: replace the tab with spaces");
        }
      }
      JsonLocation l = e.getLocation();
      String where = l == null ? "" : " line " + l.getLineNr() + ", column " + l.getColumnNr();
      out.add(source + where + SYNTAX + explanation(e.getOriginalMessage()));
      return out;
    } catch (IOException e) {
      out.add(source + ": cannot be read: " + e.getMessage());
      return out;
    }
  }

  /** The parser's message on one line: its sentences joined, the marked excerpt kept, blank lines gone. */
  private static String explanation(String message) {
    if (message == null) {
      return "syntax error";
    }
    List<String> parts = new ArrayList<>();
    for (String line : message.split("\r?\n")) {
      String t = line.strip();
      if (t.isEmpty() || t.equals("^")) {
        continue;
      }
      parts.add(t);
    }
    return String.join(" | ", parts);
  }
}
