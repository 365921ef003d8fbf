/**
 * Registers the non-embedded store backends with openStore. Imported lazily by openStore, so their clients load only
 * when such a URL is used. Each backend adds one line here.
 */
export {};
