/** vLLM's error shapes. */
const TYPES: Record<number, string> = {
  400: "BadRequestError",
  401: "AuthenticationError",
  403: "PermissionDeniedError",
  404: "NotFoundError",
  408: "RequestTimeoutError",
  409: "ConflictError",
  413: "RequestEntityTooLargeError",
  422: "UnprocessableEntityError",
  429: "RateLimitError",
  500: "InternalServerError",
  501: "NotImplementedError",
  502: "BadGatewayError",
  503: "ServiceUnavailableError",
  504: "GatewayTimeoutError",
};

export function errorType(status: number): string {
  return TYPES[status] ?? (status >= 500 ? "InternalServerError" : "BadRequestError");
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** `{"error": {"message", "type", "param", "code"}}` with `code` the HTTP status. */
export function errorBody(status: number, message: string, param: string | null = null): string {
  return JSON.stringify({ error: { message, type: errorType(status), param, code: status } });
}

// Bodies that do not follow the API error shape in vLLM either: the API-key middleware and
// FastAPI's own routing errors.
export const UNAUTHORIZED_BODY = '{"error":"Unauthorized"}';
export const NOT_FOUND_BODY = '{"detail":"Not Found"}';
export const METHOD_NOT_ALLOWED_BODY = '{"detail":"Method Not Allowed"}';

/** Client values quoted in a message are cut, so no error body grows with the request. */
export function excerpt(value: string, max = 100): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}

export function unknownModel(model: string): ApiError {
  return new ApiError(404, `The model \`${excerpt(model)}\` does not exist.`, "model");
}
