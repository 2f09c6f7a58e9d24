// Names the build (build.mjs) writes into the loader.

/** The file name of the widget's entry module under /static/widget/ (content-hashed). */
declare const WIDGET_APP: string;

/** Each language's catalog module under /static/widget/, by language code (content-hashed). */
declare const WIDGET_CATALOGS: Record<import('./language.js').Language, string>;
