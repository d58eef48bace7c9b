export { loadImages, type GuestImage, type LoadedImage } from './images.js'
export {
  applyStartState,
  buildLoaderTables,
  LOADER_AREA_BYTES,
  X86_START_STATE,
  type LoaderLayout,
  type X86Entry,
} from './start-state.js'
