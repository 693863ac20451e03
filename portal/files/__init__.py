"""Uploaded files: judged by their content, stored outside the web root under generated names,
served only through the view of the object that owns them (which checks who may see it)."""
