import { ValidationError } from '../errors.js';

/** A golden path or pattern that names no trace file: an input error, so a typo cannot make CI pass by testing nothing. */
export class NoGoldenFilesError extends ValidationError {
  override readonly code = 'NO_GOLDEN_FILES';
}
