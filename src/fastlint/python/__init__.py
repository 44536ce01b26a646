"""Python front end: module model, import/alias resolution, cross-module project view."""
