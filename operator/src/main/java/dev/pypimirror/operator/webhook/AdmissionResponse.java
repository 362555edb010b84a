package dev.pypimirror.operator.webhook;

import java.nio.charset.StandardCharsets;

/** An HTTP answer of the webhook: status, content type and body. */
public record AdmissionResponse(int status, String contentType, byte[] body) {
  static AdmissionResponse badRequest(String message) {
    return new AdmissionResponse(
        400, "text/plain; charset=utf-8", (message + "\n").getBytes(StandardCharsets.UTF_8));
  }

  static AdmissionResponse json(byte[] body) {
    return new AdmissionResponse(200, "application/json", body);
  }

  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
