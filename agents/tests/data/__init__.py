"""Sample dataset files for the importer and exporter tests."""
