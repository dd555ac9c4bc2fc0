"""Runtime code of the Wild Rydes Lambda functions: a pure core and thin AWS adapters.

- `unicorns/`, `taxi/`: one package per data set, with the same module names
  for the same roles (`records`, `windows`, `summaries`, `store`, `monitor`,
  `params`, `view`);
- `pipeline/`: what every data set's stream functions share;
- `adapters/`: the AWS edge;
- `bootstrap` wires them from `settings`; `console` serves the operations page.
"""
