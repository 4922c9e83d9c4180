package dev.preview.scm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.preview.scm.github.GitHubNotifier;
import dev.preview.spi.PullRequestSource;
import dev.preview.spi.ScmNotifier;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What users see: no vendor (OkHttp) type outside {@code internal}, factories nested and stateless. */
class PublicSurfaceTest {

  static List<Class<?>> publicApiClasses() throws Exception {
    Path root = Path.of(GitHubNotifier.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root.resolve("dev/preview/scm"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String name = root.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
        if (name.startsWith("dev.preview.scm.internal.")) {
          continue;
        }
        Class<?> c = Class.forName(name, false, PublicSurfaceTest.class.getClassLoader());
        if (isVisible(c)) {
          out.add(c);
        }
      }
    }
    return out;
  }

  static boolean isVisible(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
      if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass()) {
        return false;
      }
    }
    return true;
  }

  @Test
  void noPublicSignatureOutsideInternalExposesAnOkHttpType() throws Exception {
    List<String> leaks = new ArrayList<>();
    List<Class<?>> classes = publicApiClasses();
    assertThat(classes).extracting(Class::getSimpleName).contains("GitHubNotifier", "Builder", "Factory", "GitLabWebhookSource");
    for (Class<?> c : classes) {
      List<Executable> members = new ArrayList<>(List.of(c.getDeclaredMethods()));
      members.addAll(List.of(c.getDeclaredConstructors()));
      for (Executable m : members) {
        if (!(Modifier.isPublic(m.getModifiers()) || Modifier.isProtected(m.getModifiers())) || m.isSynthetic()) {
          continue;
        }
        List<Type> types = new ArrayList<>(List.of(m.getGenericParameterTypes()));
        if (m instanceof Method method) {
          types.add(method.getGenericReturnType());
        }
        types.addAll(List.of(m.getGenericExceptionTypes()));
        for (Type t : types) {
          if (t.getTypeName().contains("okhttp3.")) {
            leaks.add(c.getName() + "." + m.getName() + ": " + t.getTypeName());
          }
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isPublic(f.getModifiers()) && f.getGenericType().getTypeName().contains("okhttp3.")) {
          leaks.add(c.getName() + "." + f.getName() + ": " + f.getGenericType().getTypeName());
        }
      }
    }
    assertThat(leaks).isEmpty();
  }

  @Test
  void everyFactoryIsNestedInWhatItBuildsAndHoldsNoState() {
    List<Object> factories = new ArrayList<>();
    ServiceLoader.load(ScmNotifier.Factory.class).forEach(factories::add);
    ServiceLoader.load(PullRequestSource.Factory.class).forEach(factories::add);
    ServiceLoader.load(WebhookSource.Factory.class).forEach(factories::add);
    List<Object> ours = factories.stream().filter(f -> f.getClass().getName().startsWith("dev.preview.scm.")).toList();
    assertThat(ours).hasSize(6);
    for (Object f : ours) {
      Class<?> c = f.getClass();
      assertThat(c.getSimpleName()).isEqualTo("Factory");
      assertThat(c.getEnclosingClass()).as(c.getName()).isNotNull();
      assertThat(Stream.of(c.getDeclaredFields()).filter(x -> !Modifier.isStatic(x.getModifiers())).toList())
          .as("instance fields of %s (a factory builds nothing until create)", c.getName()).isEmpty();
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        assertThat(k.getParameterCount()).isZero();
      }
    }
  }
}
