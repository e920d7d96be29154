"""Builds the Swift library's C interface (`swift build -c release --product SprigC`, in the
repository that holds this folder) and installs libSprigC.so inside the `sprig` package."""

import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class BuildSwiftLibrary(build_py):
    def run(self):
        if shutil.which("swift") is None:
            raise RuntimeError("building sprig needs the Swift toolchain (swift) on PATH")
        subprocess.check_call(["swift", "build", "-c", "release", "--product", "SprigC"], cwd=ROOT)
        super().run()
        target = os.path.join(self.build_lib, "sprig")
        os.makedirs(target, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, ".build", "release", "libSprigC.so"), target)


class BinaryDistribution(Distribution):
    """A platform wheel: the package carries a compiled library."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildSwiftLibrary}, distclass=BinaryDistribution)
