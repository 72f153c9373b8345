#!/usr/bin/env python3
"""Regenerates plugin-templates.h from the *.in templates beside it (run after editing one)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = [('pl__tpl_plugin_c', 'plugin.c.in'), ('pl__tpl_plugin_cu', 'plugin.cu.in'),
         ('pl__tpl_test_c', 'test.c.in'), ('pl__tpl_cmake', 'CMakeLists.txt.in')]

out = ['/*\n * plugin-templates.h - the files `plinth plugin new` writes (generated from the *.in '
       'templates\n * kept beside it by gen-templates.py; placeholders: @NAME@ @NS@ @UPPER@ '
       '@INCLUDE_DIR@ @LIB_DIR@).\n */\n']
for var, name in FILES:
    with open(os.path.join(HERE, name)) as f:
        lines = f.read().split('\n')[:-1]
    out.append('static const char %s[] =\n' % var)
    out += ['    "%s\\n"\n' % l.replace('\\', '\\\\').replace('"', '\\"') for l in lines]
    out[-1] = out[-1].rstrip('\n') + ';\n'
    out.append('\n')
with open(os.path.join(HERE, 'plugin-templates.h'), 'w') as f:
    f.write(''.join(out))
