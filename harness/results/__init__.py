"""Run results: the timeline, bundles, JUnit properties and the summary of a run."""
