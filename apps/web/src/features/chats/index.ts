export { useCreateGeneralChat, useCreateProjectChat, useOpenNewChat } from './api/create-chat';
export { useChat } from './api/get-chat';
export { isOwnChat, isSharedChat } from './chat-access';
export { patchChat, removeChat } from './chat-cache';
export { ChatHeader } from './components/ChatHeader';
export { ChatSidebar } from './components/ChatSidebar';
export { announceChatListsChanged } from './lists-across-tabs';
