"""Reading and editing Python text: the targets a source holds (functions, classes, module specs), finding them again, and the edits that put a result in place.  No model, no sandbox."""
