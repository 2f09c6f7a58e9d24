// Names the build (build.mjs) writes into the loader.

/** The file name of the widget's entry module under /static/widget/ (content-hashed). */
declare const WIDGET_APP: string;
