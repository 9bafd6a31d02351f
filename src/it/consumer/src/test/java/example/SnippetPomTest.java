package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * This project is the pom.xml of docs/building.md ("Using Graft as a dependency"): every
 * dependency, plugin and property of that snippet is in this project's pom as written (same
 * coordinates, version and scope), so the snippet is what Maven 3.8 + Java 17 just built.
 */
class SnippetPomTest {
  private static final Pattern XML = Pattern.compile("(?ms)^```xml\\n(<\\?xml.*?<project.*?)^```");

  private static Document parse(String xml) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
  }

  /** groupId:artifactId:version[:scope] of each element named {@code tag} under {@code parent}. */
  private static List<String> coordinates(Document d, String parent, String tag) {
    List<String> out = new ArrayList<>();
    NodeList parents = d.getElementsByTagName(parent);
    for (int p = 0; p < parents.getLength(); p++) {
      for (Node n = parents.item(p).getFirstChild(); n != null; n = n.getNextSibling()) {
        if (n instanceof Element e && e.getTagName().equals(tag)) {
          String scope = text(e, "scope");
          out.add(text(e, "groupId") + ":" + text(e, "artifactId") + ":" + text(e, "version")
              + (scope.isEmpty() ? "" : ":" + scope));
        }
      }
    }
    return out;
  }

  private static String text(Element e, String child) {
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(child)) {
        return c.getTextContent().strip();
      }
    }
    return "";
  }

  @Test
  void theDocumentedPomIsThisProjectsPom() throws Exception {
    String page = Files.readString(Path.of(System.getProperty("graft.root"), "docs", "building.md"));
    Matcher m = XML.matcher(page);
    assertTrue(m.find(), "docs/building.md holds a whole pom.xml");
    Document snippet = parse(m.group(1));
    Document mine = parse(Files.readString(Path.of(System.getProperty("consumer.pom"))));

    List<String> myDeps = coordinates(mine, "dependencies", "dependency");
    List<String> docDeps = coordinates(snippet, "dependencies", "dependency");
    assertTrue(docDeps.stream().anyMatch(d -> d.startsWith("org.slf4j:slf4j-simple:2.")), docDeps.toString());
    for (String d : docDeps) {
      assertTrue(myDeps.contains(d), "the snippet's dependency " + d + " is this project's: " + myDeps);
    }
    List<String> myPlugins = coordinates(mine, "plugins", "plugin");
    List<String> docPlugins = coordinates(snippet, "plugins", "plugin");
    assertTrue(docPlugins.stream().anyMatch(p -> p.startsWith("org.apache.maven.plugins:maven-compiler-plugin:")),
        "the snippet pins the compiler plugin: " + docPlugins);
    for (String p : docPlugins) {
      assertTrue(myPlugins.contains(p), "the snippet's plugin " + p + " is this project's: " + myPlugins);
    }
    Element docProps = (Element) snippet.getElementsByTagName("properties").item(0);
    Element myProps = (Element) mine.getElementsByTagName("properties").item(0);
    for (Node n = docProps.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e) {
        assertEquals(e.getTextContent().strip(), text(myProps, e.getTagName()), "property " + e.getTagName());
      }
    }
  }
}
