package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pypimirror.operator.api.IndexSpec;
import org.junit.jupiter.api.Test;

class RenderCacheTest {
  @Test
  void aMirrorVersionIsRenderedOnceAndANewVersionAgain() {
    RenderCache cache = new RenderCache();
    var m = mirror("ns", "m", spec(https("https://a.example/simple/")));
    m.getMetadata().setUid("u");
    m.getMetadata().setResourceVersion("1");

    RenderedConfig first = cache.render(m);

    assertThat(cache.render(m)).isSameAs(first);
    m.getSpec().getIndexes().add(https("https://b.example/simple/"));
    m.getMetadata().setResourceVersion("2");
    RenderedConfig second = cache.render(m);
    assertThat(second).isNotSameAs(first);
    assertThat(second.indexUrls()).contains("https://b.example/simple/");
  }

  @Test
  void withoutAResourceVersionNothingIsKeptAndInvalidSpecsStillThrow() {
    RenderCache cache = new RenderCache();
    var offline = mirror("ns", "m", spec(https("https://a.example/simple/")));

    assertThat(cache.render(offline)).isNotSameAs(cache.render(offline));
    var invalid = mirror("ns", "bad", spec(new IndexSpec("http://h/", false)));
    invalid.getMetadata().setUid("u2");
    invalid.getMetadata().setResourceVersion("1");
    assertThatThrownBy(() -> cache.render(invalid)).isInstanceOf(InvalidMirrorException.class);
    assertThatThrownBy(() -> cache.render(invalid)).isInstanceOf(InvalidMirrorException.class);
  }
}
