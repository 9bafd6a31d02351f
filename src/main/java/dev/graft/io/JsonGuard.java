package dev.graft.io;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Parses JSON from an untrusted file into a plain tree (no type information, no class is
 * instantiated): strict UTF-8, one value, and before any parser sees the text:
 *
 * <ul>
 *   <li>nesting at most {@link Limits#maxJsonDepth()} levels (the Jackson DL4J shades has no depth
 *       limit and recurses);
 *   <li>no number longer than {@link #MAX_NUMBER_CHARS} characters (Jackson's {@code BigInteger}
 *       parse of a long integer is quadratic: 4 million digits took minutes);
 *   <li>no string longer than {@link #MAX_STRING_CHARS} characters.
 * </ul>
 *
 * <p>While parsing, a key that appears twice in one object is refused: a tree keeps the last of
 * duplicate keys while DL4J's data binding uses the first, so a checker reading the tree would see
 * a different {@code "@class"} from the one DL4J instantiates.
 *
 * <p>Every JSON Graft reads from a file goes through {@link #parse}; text that another parser reads
 * afterwards (DL4J's {@code configuration.json}) is exactly the text the guard accepted.
 */
public final class JsonGuard {
  /**
   * Longest number token accepted, in characters (a double needs at most 24); system property
   * {@code graft.limits.maxJsonNumberChars}.
   */
  public static final int MAX_NUMBER_CHARS = (int) Limits.property("maxJsonNumberChars", 100);

  /**
   * Longest string accepted, in characters (1 Mi); system property {@code
   * graft.limits.maxJsonStringChars}.
   */
  public static final int MAX_STRING_CHARS = (int) Limits.property("maxJsonStringChars", 1 << 20);

  private static final ObjectMapper TREE =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private JsonGuard() {}

  /**
   * The JSON tree of {@code bytes}.
   *
   * @throws RefusedFileException naming the file and entry if the bytes are not UTF-8, nest too
   *     deeply or are not JSON
   */
  public static JsonNode parse(byte[] bytes, Path file, String entry, Limits limits) {
    String text = utf8(bytes, file, entry);
    checkTokens(text, limits.maxJsonDepth(), file, entry);
    try {
      JsonNode root = TREE.readTree(text);
      if (root == null || root.isMissingNode()) {
        throw new RefusedFileException(file, entry, "empty, expected JSON");
      }
      return root;
    } catch (IOException e) {
      String why =
          e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      if (why.startsWith("Duplicate field")) {
        throw new RefusedFileException(
            file, entry, "duplicate key in a JSON object (" + why + "); refused", e);
      }
      throw new RefusedFileException(file, entry, "not valid JSON: " + why, e);
    }
  }

  /** Strict UTF-8 decoding. */
  public static String utf8(byte[] bytes, Path file, String entry) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RefusedFileException(file, entry, "not UTF-8 text", e);
    }
  }

  /**
   * Refuses JSON text whose arrays and objects nest deeper than {@code maxDepth}, or that holds a
   * number token longer than {@link #MAX_NUMBER_CHARS} or a string longer than {@link
   * #MAX_STRING_CHARS}: one linear pass over the characters, before any parser runs.
   */
  static void checkTokens(String text, int maxDepth, Path file, String entry) {
    int depth = 0;
    int stringStart = -1;
    int numberRun = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (stringStart >= 0) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          stringStart = -1;
        } else if (i - stringStart > MAX_STRING_CHARS) {
          throw new RefusedFileException(
              file,
              entry,
              "a JSON string longer than "
                  + MAX_STRING_CHARS
                  + " characters (graft.limits.maxJsonStringChars); refused");
        }
        continue;
      }
      if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
        if (++numberRun > MAX_NUMBER_CHARS) {
          throw new RefusedFileException(
              file,
              entry,
              "a JSON number longer than "
                  + MAX_NUMBER_CHARS
                  + " characters (graft.limits.maxJsonNumberChars); refused");
        }
        continue;
      }
      numberRun = 0;
      if (c == '"') {
        stringStart = i;
      } else if (c == '{' || c == '[') {
        if (++depth > maxDepth) {
          throw new RefusedFileException(
              file, entry, "JSON nests deeper than " + maxDepth + " levels; refused");
        }
      } else if (c == '}' || c == ']') {
        depth--;
      }
    }
  }
}
