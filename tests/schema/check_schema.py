#!/usr/bin/env python3
"""Schema agreement tests for image.yaml.

  check_schema.py keys SPEC_TOOL SCHEMA
      The key paths walked from the JSON Schema (following $ref, properties,
      items, and additionalProperties objects as `*`) must equal the ones
      the parser accepts (`SPEC_TOOL` with no argument prints them).

  check_schema.py examples SPEC_TOOL SCHEMA EXAMPLES_DIR
      Every EXAMPLES_DIR/**/image.yaml must validate against the schema
      (Draft 2020-12) and parse with `SPEC_TOOL --validate`. Skips (77) when
      there are no examples yet.
"""
import glob
import json
import os
import re
import subprocess
import sys

SKIP = 77


def resolve(root, node):
    seen = 0
    while isinstance(node, dict) and '$ref' in node:
        ref = node['$ref']
        if not ref.startswith('#/'):
            sys.exit('unsupported $ref %r' % ref)
        target = root
        for part in ref[2:].split('/'):
            target = target[part.replace('~1', '/').replace('~0', '~')]
        node = target
        seen += 1
        if seen > 50:
            sys.exit('$ref loop at %r' % ref)
    return node


def walk(root, node, path, out, depth=0):
    """Adds to out every property path under node, which sits at path."""
    if depth > 40:
        sys.exit('schema nests too deep at %s' % path)
    node = resolve(root, node)
    if not isinstance(node, dict):
        return
    for comb in ('allOf', 'anyOf', 'oneOf'):
        for sub in node.get(comb, []):
            walk(root, sub, path, out, depth + 1)
    for name, sub in node.get('properties', {}).items():
        child = path + '.' + name if path else name
        out.add(child)
        walk(root, sub, child, out, depth + 1)
    if isinstance(node.get('items'), dict):
        walk(root, node['items'], path + '[]', out, depth + 1)
    if isinstance(node.get('additionalProperties'), dict):
        walk(root, node['additionalProperties'], path + '.*', out, depth + 1)


def schema_keys(schema):
    out = set()
    walk(schema, schema, '', out)
    return out


def parser_keys(tool):
    res = subprocess.run([tool], check=True, capture_output=True, text=True)
    return set(line for line in res.stdout.splitlines() if line)


def load_schema(path):
    from jsonschema import Draft202012Validator
    with open(path) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return schema


def cmd_keys(tool, schema_path):
    schema = load_schema(schema_path)
    want, have = parser_keys(tool), schema_keys(schema)
    ok = True
    for k in sorted(want - have):
        print('accepted by the parser, missing from the schema: %s' % k)
        ok = False
    for k in sorted(have - want):
        print('in the schema, not accepted by the parser: %s' % k)
        ok = False
    print('%d key paths compared' % len(want))
    return 0 if ok else 1


def yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # Times stay strings, as the parser reads them (the schema says string).
    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != 'tag:yaml.org,2002:timestamp']
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return lambda text: yaml.load(text, Loader=Loader)


REF = re.compile(r'(?<!\$)\$\{(host:)?([A-Za-z_][A-Za-z0-9_]*)(:[-?][^}]*)?\}')


def placeholders(text, doc):
    """-p arguments and environment for the references an example leaves
    to the user (no default), so that it can be checked offline."""
    params = doc.get('params') if isinstance(doc, dict) else None
    params = params if isinstance(params, dict) else {}
    args, env = [], dict(os.environ)
    for host, name, op in set(REF.findall(text)):
        if op.startswith(':-'):
            continue
        if host and not env.get(name):
            env[name] = '1'
        elif not host and name not in params:
            args += ['-p', name + '=1']
    return args, env


def cmd_examples(tool, schema_path, examples_dir):
    from jsonschema import Draft202012Validator
    schema = load_schema(schema_path)
    validator = Draft202012Validator(schema)
    load = yaml_loader()
    files = sorted(glob.glob(os.path.join(examples_dir, '**', 'image.yaml'), recursive=True))
    if not files:
        print('no examples/**/image.yaml yet')
        return SKIP
    failed = 0
    for path in files:
        with open(path) as f:
            text = f.read()
        doc = load(text)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors:
            where = '/'.join(str(p) for p in e.absolute_path) or '(top)'
            print('%s: schema: %s: %s' % (path, where, e.message))
        args, env = placeholders(text, doc)
        res = subprocess.run([tool, '--validate', path] + args, capture_output=True, text=True, env=env)
        if res.returncode != 0:
            print('%s: parser:\n%s' % (path, res.stderr.rstrip()))
        if errors or res.returncode != 0:
            failed += 1
        else:
            print('ok %s' % path)
    print('%d of %d examples failed' % (failed, len(files)))
    return 1 if failed else 0


def main(argv):
    if len(argv) == 4 and argv[1] == 'keys':
        return cmd_keys(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == 'examples':
        return cmd_examples(argv[2], argv[3], argv[4])
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
