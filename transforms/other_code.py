"""Complete solutions of *other* HumanEvalPack problems, for ``code_append_other``.

reWordBench's Append Other Code adds another problem's code after a response. A RewardBench
hep-* response is only a function body (the benchmark prepends the declaration), so a
complete function is rebuilt from another pair: the signature its prompt quotes
(``Write a Go function `func Add(x int, y int) int` ...``) plus its chosen (correct) body.

What this owns: reading the signature, rebuilding the function in each of the six languages,
and choosing the candidates. The other problems are the pairs transformed together
(``TextContext.others``: the same hep-* subset, another prompt, another function name); a pair
transformed alone has none and is left unchanged (the embedded RewardBench sample's code is
synthetic, and fixed snippets are not another problem's code). The draw therefore depends on
which pairs are transformed together: a run repeats exactly, and a subsample may append other
code than the full set.

Known limit, shared with reWordBench: a solution is appended without its own declaration's
imports or helper functions. Python and JavaScript only define the function (nothing runs it),
so the original's behaviour cannot change; Python candidates are parsed and Python annotations
dropped, since they are evaluated when the function is defined. In C++, Go, Java and Rust a
name from the other problem's declaration could fail to compile; Go candidates that call a
package (``sort.Slice``: Go's imports differ per problem, and an unused or missing import is
an error) are skipped; the Java solution gets a class of its own, since the response closes
the ``Solution`` class.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable

from harness.data.schema import PreferencePair
from transforms import code as codelib

_SIGNATURE = re.compile(r"function `([^`]+)`")
_NAME = {  # the function's name inside its signature
    "python": re.compile(r"^\s*(\w+)\s*\("),
    "rust": re.compile(r"^\s*(?:fn\s+)?(\w+)\s*[(<]"),
    "js": re.compile(r"^\s*(?:const|let|var|function)\s+(\w+)"),
    "go": re.compile(r"^\s*func\s+(\w+)\s*\("),
    "java": re.compile(r"(\w+)\s*\("),
    "cpp": re.compile(r"(\w+)\s*\("),
}
_GO_PACKAGE_CALL = re.compile(r"\b[a-z]\w*\.[A-Z]")  # strings.Split, sort.Ints, math.Abs


def signature(prompt: str) -> str | None:
    """The signature the prompt quotes, as in ``Write a Rust function `f(x:i32) -> i32` ...``."""
    m = _SIGNATURE.search(prompt)
    return m.group(1).strip() if m else None


def function_name(prompt: str, lang: str) -> str | None:
    """The name of the function a hep-* prompt asks for."""
    sig = signature(prompt)
    m = _NAME[lang].search(sig) if sig and lang in _NAME else None
    return m.group(1) if m else None


def _python_header(sig: str) -> str | None:
    """``def name(args):`` with annotations dropped (they run when the function is defined)."""
    try:
        fn = ast.parse(f"def {sig}:\n    pass\n").body[0]
    except SyntaxError:
        return None
    assert isinstance(fn, ast.FunctionDef)
    fn.returns = None
    args = fn.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            arg.annotation = None
    return ast.unparse(fn).splitlines()[0]


@functools.lru_cache(maxsize=4096)
def complete_solution(prompt: str, body: str, lang: str) -> str | None:
    """The whole function (signature + body) of a hep-* pair, or None when it can't be rebuilt."""
    sig, name = signature(prompt), function_name(prompt, lang)
    if not sig or not name or not body.strip():
        return None
    body = body if body.endswith("\n") else body + "\n"
    if lang == "python":
        header = _python_header(sig)
        if header is None:
            return None
        code = f"{header}\n{body}"
        try:
            ast.parse(code)
        except SyntaxError:
            return None
        return code
    if lang == "java":
        # The body closes the method and then the Solution class: the method gets a class.
        return f"class Other{name[:1].upper()}{name[1:]} {{\n    {sig} {{\n{body}"
    if lang == "js":
        return f"{sig} => {{\n{body}"
    if lang == "rust":
        return f"{sig if sig.startswith('fn ') else 'fn ' + sig}{{\n{body}"
    if lang == "go" and any(_GO_PACKAGE_CALL.search(piece.text)
                            for piece in codelib.lex(body, lang) if piece.kind == "code"):
        return None
    return f"{sig} {{\n{body}"  # go, cpp


def candidates(subset: str | None, prompt: str, lang: str,
               others: Iterable[PreferencePair]) -> list[str]:
    """Other problems' complete solutions for a pair with this prompt, in a fixed order (by
    pair key) so the draw does not depend on the order the pairs came in."""
    own = function_name(prompt, lang)

    found: dict[str, str] = {}
    for p in others:
        if p.subset != subset or p.prompt_text == prompt:
            continue
        if function_name(p.prompt_text, lang) in (None, own):
            continue  # HumanEval repeats a few names (add, solve): a second def would shadow
        code = complete_solution(p.prompt_text, p.chosen, lang)
        if code is not None:
            found.setdefault(p.key, code)
    return [found[k] for k in sorted(found)]
