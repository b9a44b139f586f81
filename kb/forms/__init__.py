"""YAML extraction forms, to and from RDF.

A reviewer fills a YAML form (``ekb new`` prints a blank one); this package checks
it and turns it into the graph of one study (:func:`form_to_graph`), and turns a
study graph back into the same form (:func:`graph_to_form`), so that
``ekb show -f yaml`` followed by ``ekb add`` gives back an isomorphic graph.

One table, :data:`SECTIONS` (:mod:`kb.forms.table`), describes every field once: its
YAML name, the property it becomes, its kind (:mod:`kb.forms.kinds`: text, count,
decimal, concept, reference ...) and the comment the blank form shows. The JSON Schema
(``kb/schemas/form.schema.json``), the blank form, the conversion both ways and the
error messages are all derived from it, so they cannot drift apart.

Checking happens in three steps, and every problem names the field path
(``arms[1].n: must be a positive integer``):

1. the form against the JSON Schema (types, required fields, unknown fields):
   :mod:`kb.forms.schema`;
2. the meaning: keys unique, references to arms/outcomes/sources that exist,
   concepts that resolve through the vocabularies: :mod:`kb.forms.to_graph`;
3. (in :mod:`kb.kbdir`) the resulting graph against the SHACL shapes.

YAML is read and written in one place, :mod:`kb.forms.yaml_io`; graph -> form is
:mod:`kb.forms.from_graph`; concept lookup is :mod:`kb.forms.vocabulary`.
"""

from kb.forms.fields import (
    DEFAULTABLE,
    PROVENANCE,
    PROVENANCE_NAMES,
    Field,
    Section,
    record_iri,
    study_iri,
)
from kb.forms.from_graph import NotAForm, graph_to_form
from kb.forms.kinds import KEY_PATTERN, RDF_TYPE, RDFS_LABEL, SKOS, XSD, Kind
from kb.forms.schema import (
    SCHEMA_FILE,
    FormError,
    check_form_shape,
    json_schema,
    json_schema_text,
    normalise_form,
    path_text,
)
from kb.forms.table import (
    ARMS,
    BASELINE,
    CITABLE,
    CLAIMS,
    COMPARISONS,
    CONCEPTS,
    DEFAULTS_FIELDS,
    INTERVENTIONS,
    LANG_FIELDS,
    OUTCOMES,
    POPULATION,
    RESULTS,
    SAFETY,
    SECTIONS,
    SOURCES,
    STUDY,
    iter_fields,
)
from kb.forms.to_graph import ConvertedForm, form_to_graph
from kb.forms.vocabulary import Vocabulary, curie
from kb.forms.yaml_io import decimal_lexical, dump_form, load_form_file, load_form_text

__all__ = [
    "ARMS",
    "BASELINE",
    "CITABLE",
    "CLAIMS",
    "COMPARISONS",
    "CONCEPTS",
    "DEFAULTABLE",
    "DEFAULTS_FIELDS",
    "INTERVENTIONS",
    "KEY_PATTERN",
    "LANG_FIELDS",
    "OUTCOMES",
    "POPULATION",
    "PROVENANCE",
    "PROVENANCE_NAMES",
    "RDFS_LABEL",
    "RDF_TYPE",
    "RESULTS",
    "SAFETY",
    "SCHEMA_FILE",
    "SECTIONS",
    "SKOS",
    "SOURCES",
    "STUDY",
    "XSD",
    "ConvertedForm",
    "Field",
    "FormError",
    "Kind",
    "NotAForm",
    "Section",
    "Vocabulary",
    "check_form_shape",
    "curie",
    "decimal_lexical",
    "dump_form",
    "form_to_graph",
    "graph_to_form",
    "iter_fields",
    "json_schema",
    "json_schema_text",
    "load_form_file",
    "load_form_text",
    "normalise_form",
    "path_text",
    "record_iri",
    "study_iri",
]
