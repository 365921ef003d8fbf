import { RetraceError, ValidationError } from '../errors.js';

/** A request to the inspector API with a bad parameter or body: a 400 naming the field. */
export class ApiParamError extends ValidationError {
  override readonly code = 'API_BAD_PARAMETER';
}

/** Something the API does not have: an unknown route, job or event (404). Unknown traces are TraceNotFoundError. */
export class ApiNotFoundError extends RetraceError {
  readonly code = 'API_NOT_FOUND';
  constructor(message: string, hint: string) {
    super(message, hint, 'input');
  }
}

/** A request without the access token the server printed at start (401). */
export class ApiUnauthorizedError extends RetraceError {
  readonly code = 'API_UNAUTHORIZED';
  constructor() {
    super(
      'This inspector needs its access token.',
      'Open the URL `retrace ui` printed (it carries ?token=…), or send the token as "Authorization: Bearer <token>".',
      'input',
    );
  }
}

/** The inspector refuses to listen on a non-loopback host without a token. */
export class UiBindError extends RetraceError {
  readonly code = 'UI_UNSAFE_BIND';
  constructor(host: string) {
    super(
      `Refusing to serve the inspector on ${host} without an access token: anyone on the network could read every trace.`,
      'Bind to 127.0.0.1 (the default), or keep token protection on (do not pass token: false / --no-token).',
      'input',
    );
  }
}
