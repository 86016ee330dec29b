#!/usr/bin/env python3
"""Schema agreement tests for image.yaml.

  check_schema.py keys SPEC_TOOL SCHEMA
      The key paths walked from the JSON Schema (following $ref, properties,
      items, and additionalProperties objects as `*`) must equal the ones
      the parser accepts (`SPEC_TOOL` with no argument prints them).

  check_schema.py examples SPEC_TOOL SCHEMA EXAMPLES_DIR [DOC.md...]
      Every EXAMPLES_DIR/**/image.yaml, and every ```yaml block of the DOCs
      that is a whole spec (it has `base:`), must validate against the
      schema (Draft 2020-12) and parse with `SPEC_TOOL --validate`. Each
      example file starts with the yaml-language-server modeline. Skips (77)
      when there are no examples yet.

  check_schema.py describe SCHEMA
      The schema has its `$id`; every property has a `description`; every
      `examples` and `default` value validates against its property.

  check_schema.py defaults IMAGESPEC SCHEMA
      For every property with a `default`, a build with the key set to the
      default gives the same digest as a build without it: the schema says
      what the parser does.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

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


def schema_keys(schema):
    out = {}
    properties(schema, schema, '', out)
    return set(out)


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


SCHEMA_ID = 'https://imagespec.dev/schema/image-v1.json'
MODELINE = re.compile(r'^# yaml-language-server: \$schema=\S+$', re.M)


def doc_blocks(md):
    """The ```yaml blocks of a Markdown file that are whole specs."""
    with open(md) as f:
        text = f.read()
    out = []
    for i, m in enumerate(re.finditer(r'^```yaml\n(.*?)^```', text, re.M | re.S)):
        if re.search(r'^base:', m.group(1), re.M):
            line = text.count('\n', 0, m.start()) + 2
            out.append(('%s:%d' % (md, line), m.group(1)))
    return out


def cmd_examples(tool, schema_path, examples_dir, docs=()):
    tmp = tempfile.mkdtemp(prefix='schema-docs.')
    try:
        return check_examples(tool, schema_path, examples_dir, docs, tmp)
    finally:
        shutil.rmtree(tmp)


def check_examples(tool, schema_path, examples_dir, docs, tmp):
    from jsonschema import Draft202012Validator
    schema = load_schema(schema_path)
    validator = Draft202012Validator(schema)
    load = yaml_loader()
    files = sorted(glob.glob(os.path.join(examples_dir, '**', 'image.yaml'), recursive=True))
    if not files:
        print('no examples/**/image.yaml yet')
        return SKIP
    specs = []
    failed = 0
    for path in files:
        with open(path) as f:
            text = f.read()
        if not MODELINE.search(text):
            print('%s: no `# yaml-language-server: $schema=...` modeline' % path)
            failed += 1
        specs.append((path, path, text))
    for md in docs:
        for i, (where, text) in enumerate(doc_blocks(md)):
            path = os.path.join(tmp, 'block%d-%d.yaml' % (len(specs), i))
            with open(path, 'w') as f:
                f.write(text)
            specs.append((where, path, text))
    for shown, path, text in specs:
        doc = load(text)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors:
            where = '/'.join(str(p) for p in e.absolute_path) or '(top)'
            print('%s: schema: %s: %s' % (shown, where, e.message))
        args, env = placeholders(text, doc)
        res = subprocess.run([tool, '--validate', path] + args, capture_output=True, text=True, env=env)
        if res.returncode != 0:
            print('%s: parser:\n%s' % (shown, res.stderr.rstrip()))
        if errors or res.returncode != 0:
            failed += 1
        else:
            print('ok %s' % shown)
    print('%d of %d examples failed' % (failed, len(specs)))
    return 1 if failed else 0


def properties(root, node, path, out, depth=0):
    """Adds to out (path, property schema) for every property path under
    node, which sits at path: $ref, allOf/anyOf/oneOf, properties, items,
    and additionalProperties objects as `*` are followed. A property is
    recorded as written (a $ref one itself) where it is first met."""
    if depth > 40:
        sys.exit('schema nests too deep at %s' % path)
    if not isinstance(node, dict):
        return
    if '$ref' in node:
        properties(root, resolve(root, node), path, out, depth + 1)
    for comb in ('allOf', 'anyOf', 'oneOf'):
        for sub in node.get(comb, []):
            properties(root, sub, path, out, depth + 1)
    for name, sub in node.get('properties', {}).items():
        child = path + '.' + name if path else name
        out.setdefault(child, sub)
        properties(root, sub, child, out, depth + 1)
    if isinstance(node.get('items'), dict):
        properties(root, node['items'], path + '[]', out, depth + 1)
    if isinstance(node.get('additionalProperties'), dict):
        properties(root, node['additionalProperties'], path + '.*', out, depth + 1)


def cmd_describe(schema_path):
    from jsonschema import Draft202012Validator
    schema = load_schema(schema_path)
    validator = Draft202012Validator(schema)
    bad = 0
    if schema.get('$id') != SCHEMA_ID:
        print('$id is %r, not %r' % (schema.get('$id'), SCHEMA_ID))
        bad += 1
    props = {}
    properties(schema, schema, '', props)
    nex = ndef = 0
    for path, node in sorted(props.items()):
        if not (node.get('description') or '').strip():
            print('%s: no description' % path)
            bad += 1
        sub = validator.evolve(schema=node)
        for value in node.get('examples', []):
            nex += 1
            for e in sub.iter_errors(value):
                print('%s: example %r: %s' % (path, value, e.message))
                bad += 1
        if 'default' in node:
            ndef += 1
            for e in sub.iter_errors(node['default']):
                print('%s: default %r: %s' % (path, node['default'], e.message))
                bad += 1
    print('%d properties, %d examples, %d defaults checked' % (len(props), nex, ndef))
    return 1 if bad else 0


# The spec each default is tried in: every key's parent exists in it.
DEFAULTS_SPEC = {
    'base': 'scratch',
    'created': 0,
    'files': [{'src': './tree', 'dest': '/tree/'}],
    'layers': [
        {'files': [{'dest': '/x', 'content': 'x'}, {'src': './tree', 'dest': '/t2/'}]},
        {'archive': './a.tar'},
    ],
    'cmd': ['/x'],
    'compression': {},
    'sync': {},
    'healthcheck': {'test': ['CMD', '/x']},
}


def places(node, parts):
    """Every (mapping, key) where parts lead in node: "name[]" goes through
    each element of a list; a missing last-but-one mapping is created."""
    head, rest = parts[0], parts[1:]
    if not rest:
        yield node, head
        return
    if head.endswith('[]'):
        for el in node.get(head[:-2], []) if isinstance(node, dict) else []:
            yield from places(el, rest)
        return
    if isinstance(node, dict):
        yield from places(node.setdefault(head, {}), rest)


def candidates(path, value):
    """Copies of DEFAULTS_SPEC with the key at path set to value, one per
    place the path may stand."""
    parts = path.split('.')
    n = sum(1 for _ in places(json.loads(json.dumps(DEFAULTS_SPEC)), parts))
    for i in range(n):
        doc = json.loads(json.dumps(DEFAULTS_SPEC))
        node, key = list(places(doc, parts))[i]
        node[key] = value
        yield doc


def build(ims, work, name, doc):
    path = os.path.join(work, name + '.yaml')
    with open(path, 'w') as f:
        json.dump(doc, f)
    env = dict(os.environ)
    env.pop('SOURCE_DATE_EPOCH', None)
    res = subprocess.run([ims, 'build', path, '--output', 'oci:%s/out-%s:x' % (work, name),
                          '--platform', 'linux/amd64', '--progress', 'quiet', '--no-cache'],
                         capture_output=True, text=True, env=env)
    m = re.search(r'@(sha256:[0-9a-f]{64})$', res.stdout.strip())
    return (m.group(1) if res.returncode == 0 and m else None), res


def cmd_defaults(ims, schema_path):
    work = tempfile.mkdtemp(prefix='schema-defaults.')
    try:
        return check_defaults(ims, schema_path, work)
    finally:
        shutil.rmtree(work)


def check_defaults(ims, schema_path, work):
    import tarfile
    schema = load_schema(schema_path)
    props = {}
    properties(schema, schema, '', props)
    os.makedirs(os.path.join(work, 'tree', 'sub'))
    with open(os.path.join(work, 'tree', 'sub', 'f'), 'w') as f:
        f.write('f\n')
    os.symlink('sub/f', os.path.join(work, 'tree', 'link'))
    with tarfile.open(os.path.join(work, 'a.tar'), 'w') as t:
        t.add(os.path.join(work, 'tree'), arcname='top/tree')
    base, res = build(ims, work, 'plain', DEFAULTS_SPEC)
    if not base:
        print('the plain spec does not build:\n%s' % res.stderr)
        return 1
    bad = checked = 0
    for n, (path, node) in enumerate(sorted(props.items())):
        if 'default' not in node or path == 'apiVersion':
            continue
        got = None
        for i, doc in enumerate(candidates(path, node['default'])):
            got, res = build(ims, work, 'd%d-%d' % (n, i), doc)
            if got:
                break
        checked += 1
        if got is None:
            print('%s: no spec with `%s: %r` builds: %s' % (path, path, node['default'], res.stderr.strip() if res else 'no place for it'))
            bad += 1
        elif got != base:
            print('%s: default %r gives %s, leaving it out gives %s' % (path, node['default'], got, base))
            bad += 1
        else:
            print('ok %s: %r' % (path, node['default']))
    print('%d defaults checked against the parser' % checked)
    return 1 if bad or not checked else 0


def main(argv):
    if len(argv) == 4 and argv[1] == 'keys':
        return cmd_keys(argv[2], argv[3])
    if len(argv) >= 5 and argv[1] == 'examples':
        return cmd_examples(argv[2], argv[3], argv[4], argv[5:])
    if len(argv) == 3 and argv[1] == 'describe':
        return cmd_describe(argv[2])
    if len(argv) == 4 and argv[1] == 'defaults':
        return cmd_defaults(argv[2], argv[3])
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
