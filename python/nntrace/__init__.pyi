from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union
import os
import numpy as np

__version__: str
PathLike = Union[str, os.PathLike]
Dim = Union[int, str, None]

class Error(Exception): ...
class InputError(Error, ValueError): ...

class ValueInfo(NamedTuple):
    name: str
    dtype: str
    shape: Optional[List[Dim]]

class Node(NamedTuple):
    name: str
    op: str
    domain: str
    index: int
    depth: int
    inputs: List[str]
    outputs: List[str]

class Session:
    path: str
    threads: int
    inputs: List[ValueInfo]
    outputs: List[ValueInfo]
    def __init__(self, path: PathLike, threads: int = ...) -> None: ...
    def run(self, feeds: Mapping[str, np.ndarray],
            tracer: Optional[Callable[[Node, Dict[str, np.ndarray]], Any]] = ...) -> Dict[str, np.ndarray]: ...

def doctor(path: PathLike, feeds: Optional[Mapping[str, Any]] = ..., data: Any = ...) -> List[Dict[str, Any]]: ...
def diff(a: PathLike, b: PathLike, feeds: Optional[Mapping[str, Any]] = ...,
         atol: Optional[float] = ..., rtol: Optional[float] = ...) -> Dict[str, Any]: ...
def eval(model: PathLike, data: Any, labels: Any, batch: Optional[int] = ..., output: Optional[str] = ...,
         task: Optional[str] = ..., run_dir: Optional[PathLike] = ...) -> Dict[str, Any]: ...
def report(logdir: Union[PathLike, Sequence[PathLike]], train: Optional[str] = ...,
           val: Optional[str] = ...) -> Dict[str, Any]: ...
def analyze(path: PathLike, feeds: Mapping[str, Any], method: str, input: Optional[str] = ...,
            output: Optional[str] = ..., target: Union[int, Sequence[int], None] = ...,
            layout: Optional[str] = ..., out_dir: Optional[PathLike] = ...,
            window: Union[int, Tuple[int, int], None] = ..., stride: Union[int, Tuple[int, int], None] = ...,
            baseline: Union[str, float, None] = ..., scales: Optional[Sequence[float]] = ...,
            trials: int = ..., seed: int = ..., ranking: str = ..., top: int = ...,
            feature: Union[int, Sequence[int], None] = ...,
            range: Optional[Tuple[float, float, int]] = ...) -> Dict[str, Any]: ...

class SummaryWriter:
    log_dir: str
    def __init__(self, log_dir: Optional[str] = ..., comment: str = ..., purge_step: Optional[int] = ...,
                 max_queue: int = ..., flush_secs: int = ..., filename_suffix: str = ...) -> None: ...
    def get_logdir(self) -> str: ...
    def add_scalar(self, tag: str, scalar_value: Any, global_step: Optional[int] = ...,
                   walltime: Optional[float] = ..., new_style: bool = ..., double_precision: bool = ...) -> None: ...
    def add_scalars(self, main_tag: str, tag_scalar_dict: Dict[str, Any], global_step: Optional[int] = ...,
                    walltime: Optional[float] = ...) -> None: ...
    def add_histogram(self, tag: str, values: Any, global_step: Optional[int] = ..., bins: Any = ...,
                      walltime: Optional[float] = ..., max_bins: Optional[int] = ...) -> None: ...
    def add_image(self, tag: str, img_tensor: Any, global_step: Optional[int] = ...,
                  walltime: Optional[float] = ..., dataformats: str = ...) -> None: ...
    def add_text(self, tag: str, text_string: str, global_step: Optional[int] = ...,
                 walltime: Optional[float] = ...) -> None: ...
    def add_graph(self, model: Any, input_to_model: Any = ..., verbose: bool = ...,
                  use_strict_trace: bool = ...) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "SummaryWriter": ...
    def __exit__(self, *exc: Any) -> None: ...
