"""Loaders: turn the ontology files, registers and UN reports into RDF for the store."""
