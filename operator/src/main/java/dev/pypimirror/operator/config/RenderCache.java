package dev.pypimirror.operator.config;

import dev.pypimirror.operator.api.PypiMirror;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rendered configs of mirrors as the API server last stored them, so an admission does not render
 * (and hash) the same spec again. Keyed by uid and resourceVersion: any change to a mirror is a new
 * key. A mirror without a resourceVersion (offline) is rendered every time.
 */
public final class RenderCache {
  static final int MAX_ENTRIES = 10_000;

  private final Map<String, RenderedConfig> rendered = new ConcurrentHashMap<>();

  /** The mirror's rendered config; throws {@link InvalidMirrorException} as the renderer does. */
  public RenderedConfig render(PypiMirror mirror) {
    var meta = mirror.getMetadata();
    if (meta.getUid() == null || meta.getResourceVersion() == null) {
      return MirrorConfigRenderer.render(mirror);
    }
    String key = meta.getUid() + "/" + meta.getResourceVersion();
    RenderedConfig cached = rendered.get(key);
    if (cached != null) {
      return cached;
    }
    RenderedConfig fresh = MirrorConfigRenderer.render(mirror);
    if (rendered.size() >= MAX_ENTRIES) {
      rendered.clear(); // old versions of mirrors are never asked for again
    }
    rendered.put(key, fresh);
    return fresh;
  }
}
