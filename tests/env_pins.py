"""What a tab's environment must hold: its pins, installed exactly."""
import importlib.metadata
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pins(path):
    """{'numpy': '2.4.6', ...} from a pins file of the repository."""
    found = {}
    with open(os.path.join(ROOT, path)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                name, version = line.split('==')
                found[normal(name)] = version
    return found


def normal(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def installed():
    """{'numpy': '2.4.6', ...}: every distribution in this environment."""
    return {normal(d.metadata['Name']): d.version
            for d in importlib.metadata.distributions()}


def mismatches(path):
    """The pins of path that this environment does not hold exactly
    (a local version label such as torch's +cpu is the same release)."""
    have = installed()
    return {name: (version, have.get(name)) for name, version in
            pins(path).items()
            if (have.get(name) or '').split('+')[0] != version}
