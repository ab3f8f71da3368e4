/** Folders from the flat, slash-separated file names the server lists. */
import type { FileEntry } from "../api/files";

export interface Folder {
  name: string;
  path: string;
  folders: Folder[];
  files: FileEntry[];
  /** Bytes of every file below. */
  size: number;
}

/** The folder tree of a file list: folders first, each level sorted by name. */
export function buildTree(files: readonly FileEntry[]): Folder {
  const root: Folder = { name: "", path: "", folders: [], files: [], size: 0 };
  const index = new Map<string, Folder>([["", root]]);
  for (const file of files) {
    const parts = file.name.split("/").filter((p) => p !== "");
    let folder = root;
    folder.size += file.size;
    for (let i = 0; i < parts.length - 1; i++) {
      const path = parts.slice(0, i + 1).join("/");
      let next = index.get(path);
      if (!next) {
        next = { name: parts[i] as string, path, folders: [], files: [], size: 0 };
        index.set(path, next);
        folder.folders.push(next);
      }
      next.size += file.size;
      folder = next;
    }
    folder.files.push(file);
  }
  const sort = (folder: Folder): void => {
    folder.folders.sort((a, b) => a.name.localeCompare(b.name));
    folder.files.sort((a, b) => a.name.localeCompare(b.name));
    folder.folders.forEach(sort);
  };
  sort(root);
  return root;
}

/** The last part of a path (what a tree shows). */
export function baseName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? path : path.slice(slash + 1);
}
